package audit

import (
	"encoding/base64"
	"strings"

	fnote "github.com/transparency-dev/formats/note"
	"golang.org/x/mod/sumdb/note"
)

// Witnesses cosign in C2SP tlog-cosignature form (cosignature/v1): the
// signature line carries the time of signing, and the signed message is
// "cosignature/v1\ntime <t>\n" and the checkpoint. The verifiers and the
// signer are github.com/transparency-dev/formats/note's.

// algCosignatureV1 is the signed-note key algorithm of cosignature/v1.
const algCosignatureV1 = 0x04

// witnessVerifiers returns what a witness's key verifies: a
// cosignature/v1 key its timestamped cosignatures; a plain Ed25519 key
// both its cosignature/v1 form (another key hash) and, for witnesses that
// signed before timestamps, plain note signatures.
func witnessVerifiers(vkey string) ([]note.Verifier, error) {
	cosig, err := fnote.NewVerifierForCosignatureV1(vkey)
	if err != nil {
		return nil, err
	}
	if isCosignatureKey(vkey) {
		return []note.Verifier{cosig}, nil
	}
	plain, err := note.NewVerifier(vkey)
	if err != nil {
		return nil, err
	}
	return []note.Verifier{cosig, plain}, nil
}

func isCosignatureKey(vkey string) bool {
	parts := strings.SplitN(vkey, "+", 3)
	if len(parts) != 3 {
		return false
	}
	raw, err := base64.StdEncoding.DecodeString(parts[2])
	return err == nil && len(raw) > 0 && raw[0] == algCosignatureV1
}

// CosignatureKey returns the cosignature/v1 verifier key of a witness's
// Ed25519 key (as `ledger keys show` prints it): what a log that wants
// only timestamped cosignatures from it configures.
func CosignatureKey(vkey string) (string, error) {
	return fnote.VKeyToCosignatureV1(vkey)
}
