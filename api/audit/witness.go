package audit

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	fnote "github.com/transparency-dev/formats/note"
	"golang.org/x/mod/sumdb/note"

	"promiseledger/projections/translog"
)

// WitnessConfig configures Witness.
type WitnessConfig struct {
	// BaseURL is where the log's audit API is mounted.
	BaseURL string
	// LogVerifierKey is the log's public key.
	LogVerifierKey string
	// WitnessSignerKey is the witness's own private key (note format, see
	// translog.GenerateKey).
	WitnessSignerKey string
	// StateFile keeps the checkpoints this witness cosigned. Required: a
	// witness that forgets what it signed protects no one.
	StateFile  string
	HTTPClient *http.Client
	Now        func() time.Time
}

// WitnessReport says what Witness did.
type WitnessReport struct {
	Checkpoint CheckpointRef
	// Previous is the last checkpoint cosigned before (nil the first time);
	// the new one was proved to extend it.
	Previous *CheckpointRef
	// Cosigned is true when the witness signed and the log accepted it.
	Cosigned bool
}

// InconsistencyError is a witness's refusal: the log offered a checkpoint
// that does not extend one the witness cosigned. Both signed notes are
// given: together they prove that the log showed two histories.
type InconsistencyError struct {
	Cosigned, Offered string // the signed notes
	Detail            string
}

func (e *InconsistencyError) Error() string {
	return "audit: witness refuses to cosign: " + e.Detail
}

// Is makes the error match translog.ErrInconsistent.
func (e *InconsistencyError) Is(target error) bool { return target == translog.ErrInconsistent }

// Witness cosigns the log's latest checkpoint after proving that it
// extends the last checkpoint this witness cosigned, and posts the
// cosignature to the log. It refuses (an *InconsistencyError) a checkpoint
// that does not: a log that rewrote its history, or shows different
// histories to different people, cannot get both views witnessed.
func Witness(ctx context.Context, cfg WitnessConfig) (WitnessReport, error) {
	var rep WitnessReport
	if cfg.StateFile == "" {
		return rep, errors.New("audit: a witness needs a state file")
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	log, err := translog.LoadVerifier(cfg.LogVerifierKey)
	if err != nil {
		return rep, err
	}
	// The witness cosigns in C2SP tlog-cosignature form (timestamped).
	signer, err := fnote.NewSignerForCosignatureV1(cfg.WitnessSignerKey)
	if err != nil {
		return rep, fmt.Errorf("audit: witness key: %w", err)
	}
	st, seen, err := loadState(cfg.StateFile, log)
	if err != nil {
		return rep, err
	}
	c := newClient(cfg.BaseURL, cfg.HTTPClient)
	cp, _, err := c.fetchCheckpoint(ctx, "/checkpoint", log, nil)
	if err != nil {
		return rep, fmt.Errorf("audit: witness: %w", err)
	}
	rep.Checkpoint = refOf(cp)
	if st.Origin != "" && cp.Origin != st.Origin {
		return rep, fmt.Errorf("audit: witness: the log now calls itself %q, it was %q", cp.Origin, st.Origin)
	}
	if len(seen) > 0 {
		last := seen[len(seen)-1]
		ref := refOf(last)
		rep.Previous = &ref
		refuse := func(detail string) error {
			return &InconsistencyError{Cosigned: last.Note, Offered: cp.Note, Detail: detail}
		}
		switch {
		case cp.TreeSize < last.TreeSize:
			return rep, refuse(fmt.Sprintf("the log offers size %d, smaller than checkpoint %d cosigned before", cp.TreeSize, last.TreeSize))
		case cp.TreeSize == last.TreeSize && cp.RootHash != last.RootHash:
			return rep, refuse(fmt.Sprintf("two checkpoints of size %d with different roots", cp.TreeSize))
		case cp.TreeSize > last.TreeSize:
			ok, err := c.proveConsistent(ctx, last, cp)
			if err != nil {
				return rep, fmt.Errorf("audit: witness: %w", err)
			}
			if !ok {
				return rep, refuse(fmt.Sprintf("checkpoint %d does not extend checkpoint %d cosigned before", cp.TreeSize, last.TreeSize))
			}
		}
	}
	n, err := note.Open([]byte(cp.Note), note.VerifierList(log))
	if err != nil {
		return rep, fmt.Errorf("audit: witness: %w", err)
	}
	cosigned, err := note.Sign(&note.Note{Text: n.Text, Sigs: n.Sigs}, signer)
	if err != nil {
		return rep, fmt.Errorf("audit: witness: sign: %w", err)
	}
	// Remember before posting: if the post is lost after the server got it,
	// the witness must still never cosign a checkpoint inconsistent with it.
	if err := st.remember(cfg.StateFile, cp, cfg.LogVerifierKey, cfg.Now(), 0); err != nil {
		return rep, err
	}
	if err := c.postCosignature(ctx, cosigned); err != nil {
		return rep, err
	}
	rep.Cosigned = true
	return rep, nil
}

func (c client) postCosignature(ctx context.Context, msg []byte) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.base+"/cosignatures", bytes.NewReader(msg))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "text/plain; charset=utf-8")
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("audit: post cosignature: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		return responseError(req, resp)
	}
	return nil
}
