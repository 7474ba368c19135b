package audit

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"

	"github.com/google/uuid"
	"golang.org/x/mod/sumdb/note"

	"promiseledger/api/kernel"
	"promiseledger/projections/translog"
)

// GET /checkpoint[?cosigned=K]: the latest checkpoint (the latest one that
// at least K witnesses cosigned), as a signed note with the cosignatures.
func (h *handler) checkpoint(w http.ResponseWriter, r *http.Request) error {
	k, err := intParam(r, "cosigned", 0)
	if err != nil {
		return err
	}
	cp, err := translog.LatestCosigned(r.Context(), h.cfg.DB, int(k))
	if err != nil {
		return err
	}
	w.Header().Set("Cache-Control", "no-cache")
	return h.writeNote(w, r, cp)
}

// GET /checkpoints/{size}: one checkpoint.
func (h *handler) checkpointAt(w http.ResponseWriter, r *http.Request) error {
	size, err := strconv.ParseInt(r.PathValue("size"), 10, 64)
	if err != nil || size < 1 {
		return badRequest("size must be a positive integer")
	}
	cp, err := translog.CheckpointAt(r.Context(), h.cfg.DB, size)
	if err != nil {
		return err
	}
	// The checkpoint never changes; cosignatures may still arrive.
	w.Header().Set("Cache-Control", "public, max-age=60")
	return h.writeNote(w, r, cp)
}

func (h *handler) writeNote(w http.ResponseWriter, r *http.Request, cp translog.Checkpoint) error {
	cosigs, err := translog.Cosignatures(r.Context(), h.cfg.DB, cp.TreeSize)
	if err != nil {
		return err
	}
	body := translog.WithCosignatures(cp, cosigs)
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.Header().Set("Audit-Tree-Size", strconv.FormatInt(cp.TreeSize, 10))
	w.Header().Set(keyHeader, h.cfg.Verifier)
	io.WriteString(w, body) //nolint:errcheck // the client went away
	return nil
}

// treeSizeParam reads a tree size parameter; absent, it is the latest
// checkpoint's size.
func (h *handler) treeSizeParam(r *http.Request, name string) (int64, error) {
	size, err := intParam(r, name, 0)
	if err != nil || size > 0 {
		return size, err
	}
	if r.URL.Query().Has(name) {
		return 0, badRequest("%s must be positive", name)
	}
	cp, err := translog.LatestCheckpoint(r.Context(), h.cfg.DB)
	if err != nil {
		return 0, err
	}
	return cp.TreeSize, nil
}

// GET /proof/inclusion?index=N|event_id=ID[&tree_size=M]
func (h *handler) inclusionProof(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	q := r.URL.Query()
	var leaf translog.Leaf
	var err error
	switch {
	case q.Has("index") == q.Has("event_id"):
		return badRequest("give exactly one of index and event_id")
	case q.Has("index"):
		i, perr := intParam(r, "index", 0)
		if perr != nil {
			return perr
		}
		leaf, err = translog.LeafAt(ctx, h.cfg.DB, i)
	default:
		id, perr := uuid.Parse(q.Get("event_id"))
		if perr != nil {
			return badRequest("event_id must be a UUID")
		}
		leaf, err = translog.LeafOf(ctx, h.cfg.DB, id)
	}
	if err != nil {
		return err
	}
	size, err := h.treeSizeParam(r, "tree_size")
	if err != nil {
		return err
	}
	if leaf.Index >= size {
		return newProblem(http.StatusNotFound, "not-found", "Not in that tree",
			fmt.Sprintf("leaf %d was logged after tree size %d: ask for a later checkpoint", leaf.Index, size))
	}
	proof, err := translog.InclusionProof(ctx, h.cfg.DB, leaf.Index, size)
	if err != nil {
		return err
	}
	root, err := translog.TreeHash(ctx, h.cfg.DB, size)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, InclusionProof{
		LeafIndex: leaf.Index, EventID: leaf.EventID.String(), TreeSize: size,
		LeafHash: leaf.Hash.String(), RootHash: root.String(), Proof: hashesB64(proof),
	})
}

// GET /proof/consistency?old=N[&new=M]
func (h *handler) consistencyProof(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	if !r.URL.Query().Has("old") {
		return badRequest("old is required")
	}
	oldSize, err := intParam(r, "old", 0)
	if err != nil {
		return err
	}
	newSize, err := h.treeSizeParam(r, "new")
	if err != nil {
		return err
	}
	proof, err := translog.ConsistencyProof(ctx, h.cfg.DB, oldSize, newSize)
	if err != nil {
		return err
	}
	oldRoot, err := translog.TreeHash(ctx, h.cfg.DB, oldSize)
	if err != nil {
		return err
	}
	newRoot, err := translog.TreeHash(ctx, h.cfg.DB, newSize)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, ConsistencyProof{
		OldSize: oldSize, NewSize: newSize, OldRoot: oldRoot.String(), NewRoot: newRoot.String(), Proof: hashesB64(proof),
	})
}

// maxCosignedNote bounds the body of POST /cosignatures.
const maxCosignedNote = 64 << 10

// POST /cosignatures: a witness sends the checkpoint note with its own
// signature added (text/plain). Every signature by a known witness is
// verified and kept; the text must be exactly a checkpoint the log signed.
func (h *handler) addCosignature(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	body, err := kernel.ReadLimited(w, r, maxCosignedNote)
	if err != nil {
		return err
	}
	n, err := note.Open(body, note.VerifierList(append([]note.Verifier{h.log}, h.witnesses...)...))
	var invalid *note.InvalidSignatureError
	var unverified *note.UnverifiedNoteError
	switch {
	case errors.As(err, &invalid):
		return newProblem(http.StatusUnprocessableEntity, "validation", "Signature does not verify",
			fmt.Sprintf("the signature of %s does not verify", invalid.Name))
	case errors.As(err, &unverified):
		return newProblem(http.StatusForbidden, "forbidden", "Unknown witness", "the note carries no signature by a witness this log knows")
	case err != nil:
		return badRequest("the body must be a signed checkpoint note: %v", err)
	}
	_, size, _, err := translog.ParseCheckpoint(n.Text)
	if err != nil {
		return badRequest("%v", err)
	}
	cp, err := translog.CheckpointAt(ctx, h.cfg.DB, size)
	if err != nil {
		return err
	}
	if cp.Body() != n.Text {
		h.cfg.Logger.WarnContext(ctx, "a witness cosigned a checkpoint this log did not sign", "tree_size", size)
		return newProblem(http.StatusConflict, "checkpoint-mismatch", "Not this log's checkpoint",
			fmt.Sprintf("the cosigned text differs from checkpoint %d of this log", size))
	}
	receipt := CosignatureReceipt{TreeSize: size, Witnesses: []string{}}
	for _, s := range n.Sigs {
		if s.Name == h.log.Name() && s.Hash == h.log.KeyHash() {
			continue
		}
		if err := translog.AddCosignature(ctx, h.cfg.DB, size, s); err != nil {
			return err
		}
		receipt.Witnesses = append(receipt.Witnesses, s.Name)
	}
	if len(receipt.Witnesses) == 0 {
		return newProblem(http.StatusForbidden, "forbidden", "Unknown witness", "the note carries no signature by a witness this log knows")
	}
	return writeJSON(w, http.StatusCreated, receipt)
}
