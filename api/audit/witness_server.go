package audit

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	fnote "github.com/transparency-dev/formats/note"
	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"promiseledger/projections/translog"
)

// The witness side of the C2SP tlog-witness protocol
// (https://c2sp.org/tlog-witness): a log, or whoever relays its
// checkpoints, POSTs /add-checkpoint with the size the witness last
// cosigned, a consistency proof from it, and the new signed checkpoint;
// the witness checks all three against what it cosigned before and answers
// its cosignature/v1 line. This is what lets a public witness network's
// tooling drive `ledger witness --listen`.

// WitnessServerConfig configures NewWitnessHandler.
type WitnessServerConfig struct {
	// LogVerifierKey is the key of the one log this witness cosigns.
	LogVerifierKey string
	// WitnessSignerKey is the witness's Ed25519 signer key.
	WitnessSignerKey string
	// StateFile keeps the checkpoints cosigned (required).
	StateFile string
	Now       func() time.Time
}

// maxAddCheckpoint bounds a request: a checkpoint, its signatures and a
// proof of at most 63 hashes are a few KiB.
const maxAddCheckpoint = 64 << 10

type witnessServer struct {
	cfg    WitnessServerConfig
	log    note.Verifier
	signer note.Signer
	mu     sync.Mutex // one add-checkpoint at a time: each extends the last
}

// NewWitnessHandler returns the witness's HTTP handler: POST
// /add-checkpoint.
func NewWitnessHandler(cfg WitnessServerConfig) (http.Handler, error) {
	if cfg.StateFile == "" {
		return nil, errors.New("audit: a witness needs a state file")
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	log, err := translog.LoadVerifier(cfg.LogVerifierKey)
	if err != nil {
		return nil, err
	}
	signer, err := fnote.NewSignerForCosignatureV1(cfg.WitnessSignerKey)
	if err != nil {
		return nil, fmt.Errorf("audit: witness key: %w", err)
	}
	if _, _, err := loadState(cfg.StateFile, log); err != nil {
		return nil, err
	}
	ws := &witnessServer{cfg: cfg, log: log, signer: signer}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /add-checkpoint", ws.addCheckpoint)
	return mux, nil
}

func (ws *witnessServer) addCheckpoint(w http.ResponseWriter, r *http.Request) {
	fail := func(status int, format string, args ...any) {
		http.Error(w, fmt.Sprintf(format, args...), status)
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxAddCheckpoint+1))
	if err != nil || len(body) > maxAddCheckpoint {
		fail(http.StatusBadRequest, "the request body is unreadable or above %d bytes", maxAddCheckpoint)
		return
	}
	old, proof, msg, err := parseAddCheckpoint(body)
	if err != nil {
		fail(http.StatusBadRequest, "%v", err)
		return
	}
	n, err := note.Open(msg, note.VerifierList(ws.log))
	var unverified *note.UnverifiedNoteError
	switch {
	case errors.As(err, &unverified):
		// Not signed by the one log this witness knows: unknown log.
		fail(http.StatusNotFound, "no signature of a log this witness cosigns")
		return
	case err != nil:
		fail(http.StatusForbidden, "the checkpoint's signature does not verify: %v", err)
		return
	}
	origin, size, root, err := translog.ParseCheckpoint(n.Text)
	if err != nil || origin != ws.log.Name() {
		fail(http.StatusNotFound, "not a checkpoint of log %s", ws.log.Name())
		return
	}

	ws.mu.Lock()
	defer ws.mu.Unlock()
	st, seen, err := loadState(ws.cfg.StateFile, ws.log)
	if err != nil {
		fail(http.StatusInternalServerError, "witness state: %v", err)
		return
	}
	var last translog.Checkpoint
	if len(seen) > 0 {
		last = seen[len(seen)-1]
	}
	if old != last.TreeSize {
		// The caller must start from what this witness last cosigned.
		w.Header().Set("Content-Type", "text/x.tlog.size")
		w.WriteHeader(http.StatusConflict)
		fmt.Fprintf(w, "%d\n", last.TreeSize)
		return
	}
	switch {
	case size < old:
		fail(http.StatusBadRequest, "checkpoint size %d is smaller than old size %d", size, old)
		return
	case size == old && (root != last.RootHash || len(proof) > 0):
		fail(http.StatusConflict, "checkpoint %d has another root than the one cosigned", size)
		return
	case old > 0 && size > old && tlog.CheckTree(proof, size, root, old, last.RootHash) != nil:
		fail(http.StatusUnprocessableEntity, "the consistency proof from %d to %d does not verify", old, size)
		return
	}
	cosigned, err := note.Sign(&note.Note{Text: n.Text}, ws.signer)
	if err != nil {
		fail(http.StatusInternalServerError, "sign: %v", err)
		return
	}
	cp := translog.Checkpoint{Origin: origin, TreeSize: size, RootHash: root, Note: string(msg)}
	// Remember before answering: never cosign a checkpoint inconsistent
	// with one that may have left.
	if err := st.remember(ws.cfg.StateFile, cp, ws.cfg.LogVerifierKey, ws.cfg.Now(), 0); err != nil {
		fail(http.StatusInternalServerError, "witness state: %v", err)
		return
	}
	// The answer is the cosignature line(s) alone.
	_, sigs, _ := bytes.Cut(cosigned, []byte("\n\n"))
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Write(sigs) //nolint:errcheck // the caller went away
}

// parseAddCheckpoint reads an add-checkpoint body: "old N", the proof's
// hashes one a line in base64, a blank line, the signed checkpoint.
func parseAddCheckpoint(body []byte) (old int64, proof tlog.TreeProof, msg []byte, err error) {
	head, msg, ok := bytes.Cut(body, []byte("\n\n"))
	if !ok {
		return 0, nil, nil, errors.New("want \"old N\", the proof lines, a blank line and the checkpoint")
	}
	sc := bufio.NewScanner(bytes.NewReader(head))
	sc.Scan()
	size, found := strings.CutPrefix(sc.Text(), "old ")
	old, err = strconv.ParseInt(size, 10, 64)
	if !found || err != nil || old < 0 || strconv.FormatInt(old, 10) != size {
		return 0, nil, nil, fmt.Errorf("the first line must be \"old N\", not %q", sc.Text())
	}
	for sc.Scan() {
		h, err := tlog.ParseHash(sc.Text())
		if err != nil {
			return 0, nil, nil, fmt.Errorf("proof line %d: %v", len(proof)+1, err)
		}
		if proof = append(proof, h); len(proof) > 63 {
			return 0, nil, nil, errors.New("a consistency proof has at most 63 hashes")
		}
	}
	return old, proof, msg, nil
}
