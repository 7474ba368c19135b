package audit

import (
	"encoding/base64"
	"errors"
	"net/http"
	"strconv"
	"strings"

	"filippo.io/torchwood"

	"promiseledger/projections/translog"
)

// TilesPrefix is where, under PathPrefix, the log is served in C2SP
// tlog-tiles form: a tlog-tiles client takes PathPrefix+TilesPrefix as
// the log's prefix URL and reads "checkpoint", "tile/<L>/<N>[.p/<W>]" and
// "tile/entries/<N>[.p/<W>]" under it (docs/audit.md).
const TilesPrefix = "/tlog"

// Cache lifetimes of the tlog-tiles resources. A full tile never changes,
// so caches keep it for good; a partial tile never changes either, but a
// client should move on to the full one, and the checkpoint moves on as
// the log grows.
const (
	cacheFullTile    = "public, max-age=31536000, immutable"
	cachePartialTile = "public, max-age=60"
	cacheCheckpoint  = "public, max-age=5"
)

// GET /tlog/checkpoint: the latest signed checkpoint with its
// cosignatures, the tlog-tiles checkpoint.
func (h *handler) tlogCheckpoint(w http.ResponseWriter, r *http.Request) error {
	cp, err := translog.LatestCheckpoint(r.Context(), h.cfg.DB)
	if err != nil {
		return err
	}
	w.Header().Set("Cache-Control", cacheCheckpoint)
	return h.writeNote(w, r, cp)
}

// GET /tlog/tile/{tile...}: a hash tile or an entry bundle, within the
// latest signed checkpoint.
func (h *handler) tlogTile(w http.ResponseWriter, r *http.Request) error {
	path := "tile/" + r.PathValue("tile")
	t, err := torchwood.ParseTilePath(path)
	// Only the canonical spelling: ParseTilePath also takes sumdb's
	// "tile/data/..." for an entry bundle.
	if err != nil || torchwood.TilePath(t) != path {
		return newProblem(http.StatusNotFound, "not-found", "Not found",
			"not a tlog-tiles path: want tile/<L>/<N>[.p/<W>] or tile/entries/<N>[.p/<W>], N in groups of three digits (x001/234)")
	}
	cp, err := translog.LatestCheckpoint(r.Context(), h.cfg.DB)
	if err != nil {
		return err
	}
	var data []byte
	if t.L == -1 {
		data, err = translog.EntryBundle(r.Context(), h.cfg.DB, t, cp.TreeSize)
	} else {
		data, err = translog.HashTile(r.Context(), h.cfg.DB, t, cp.TreeSize)
	}
	if errors.Is(err, translog.ErrEntryTooLarge) {
		return newProblem(http.StatusNotImplemented, "entry-too-large", "Entry too large for a bundle", err.Error())
	}
	if err != nil {
		return err
	}
	if t.W == torchwood.TileWidth {
		w.Header().Set("Cache-Control", cacheFullTile)
	} else {
		w.Header().Set("Cache-Control", cachePartialTile)
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Content-Length", strconv.Itoa(len(data)))
	w.Write(data) //nolint:errcheck // the client went away
	return nil
}

// LogKey is the answer of GET /key: the log's public key, which every
// checkpoint is signed with.
type LogKey struct {
	// Origin is the first line of the log's checkpoints.
	Origin string `json:"origin"`
	// VerifierKey is the key in signed-note form
	// ("<name>+<key hash>+<base64 of 0x01 and the Ed25519 key>"), what
	// `ledger verify --key` and tlog-tiles clients take.
	VerifierKey string `json:"verifier_key"`
	// Algorithm is "Ed25519"; PublicKey the raw 32-byte key in base64.
	Algorithm string `json:"algorithm"`
	PublicKey string `json:"public_key"`
	// KeyHash is the note key hash (8 hex digits) that starts each of the
	// log's signatures.
	KeyHash string `json:"key_hash"`
	// TilesURL is the log's tlog-tiles prefix, relative to the server.
	TilesURL string `json:"tiles_url"`
}

// GET /key: the log's public key. Trust in it cannot come from this
// answer alone (docs/operations.md): pin the key published out of band.
func (h *handler) key(w http.ResponseWriter, r *http.Request) error {
	k := LogKey{Origin: h.cfg.Origin, VerifierKey: h.cfg.Verifier, Algorithm: "Ed25519", TilesURL: PathPrefix + TilesPrefix}
	// NewHandler checked the key: "<name>+<hash>+<base64 of 0x01 and the key>".
	if parts := strings.SplitN(h.cfg.Verifier, "+", 3); len(parts) == 3 {
		k.KeyHash = parts[1]
		if raw, err := base64.StdEncoding.DecodeString(parts[2]); err == nil && len(raw) == 33 {
			k.PublicKey = base64.StdEncoding.EncodeToString(raw[1:])
		}
	}
	w.Header().Set("Cache-Control", "public, max-age=300")
	return writeJSON(w, http.StatusOK, k)
}

// keyHeader names the log's verifier key on every checkpoint answer, so a
// reader holding a checkpoint knows which key to check it with (and
// compare with the one pinned).
const keyHeader = "Audit-Log-Key"
