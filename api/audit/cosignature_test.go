package audit_test

import (
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"strings"
	"testing"
	"time"

	"filippo.io/torchwood"
	"golang.org/x/mod/sumdb/note"

	"promiseledger/api/audit"
)

// TestWitnessCosignsInTlogCosignatureForm: `ledger witness` (audit.Witness)
// cosigns in C2SP tlog-cosignature form: the served checkpoint carries a
// timestamped cosignature/v1 line that a third-party implementation
// (torchwood's) verifies and dates, and the log accepts such a line from
// a witness configured with a cosignature/v1 key too. Witnesses once
// signed plain note signatures without a time.
func TestWitnessCosignsInTlogCosignatureForm(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	logKey := newKey(t, "ledger.example.kz/log")
	w := newKey(t, "witness.example.org")
	w2 := newKey(t, "witness2.example.org")
	cosigKey2, err := audit.CosignatureKey(w2.vkey)
	if err != nil {
		t.Fatal(err)
	}
	s := newLogServer(t, logKey, w.vkey, cosigKey2)
	s.grow(t, 12)
	before := time.Now().Add(-time.Second).Unix()
	for _, k := range []key{w, w2} {
		wcfg := audit.WitnessConfig{BaseURL: s.base, LogVerifierKey: logKey.vkey, WitnessSignerKey: k.skey, StateFile: stateFile(t), HTTPClient: s.srv.Client()}
		if rep, err := audit.Witness(ctx, wcfg); err != nil || !rep.Cosigned {
			t.Fatalf("%s: %+v, %v", k.vkey, rep, err)
		}
	}
	body := readAll(t, get(t, s.base+"/tlog/checkpoint"))
	logV, _ := note.NewVerifier(logKey.vkey)
	for _, k := range []key{w, w2} {
		// torchwood's cosignature/v1 verifier, built from the witness's
		// Ed25519 key, independently of this project's code.
		signer, err := torchwood.NewCosignatureSigner(k.signer.Name(), ed25519Of(t, k.skey))
		if err != nil {
			t.Fatal(err)
		}
		n, err := note.Open([]byte(body), note.VerifierList(logV, signer.Verifier()))
		if err != nil {
			t.Fatalf("%s: open with torchwood's cosignature/v1 verifier: %v\n%s", k.signer.Name(), err, body)
		}
		found := false
		for _, sig := range n.Sigs {
			if sig.Name != k.signer.Name() || sig.Hash != signer.Verifier().KeyHash() {
				continue
			}
			found = true
			ts, err := torchwood.CosignatureTimestamp(sig)
			if err != nil || ts < before || ts > time.Now().Unix()+1 {
				t.Errorf("%s: cosignature time %d, %v; want about now", sig.Name, ts, err)
			}
		}
		if !found {
			t.Errorf("%s: no cosignature/v1 line in\n%s", k.signer.Name(), body)
		}
	}
	if strings.Count(body, "\n— ") != 3 {
		t.Errorf("want the log's signature and two cosignatures:\n%s", body)
	}
	// A client that requires both witnesses accepts the log, reading it
	// from the export or from the tiles, even after the log grew past the
	// checkpoint they cosigned.
	s.grow(t, 300)
	for _, tiles := range []bool{false, true} {
		cfg := s.verifyConfig(stateFile(t))
		cfg.RequireWitnesses, cfg.WitnessKeys, cfg.Tiles = 2, []string{w.vkey, cosigKey2}, tiles
		if rep, err := audit.Verify(ctx, cfg); err != nil || len(rep.Witnesses) != 2 || rep.Checkpoint.TreeSize != 12 || rep.EventsChecked != 12 {
			t.Fatalf("witnessed verify (tiles %v): checkpoint %d, %d events, witnesses %v, %v %v",
				tiles, rep.Checkpoint.TreeSize, rep.EventsChecked, rep.Witnesses, err, rep.Findings)
		}
	}
}

// ed25519Of reads the Ed25519 private key of a signed-note signer key.
func ed25519Of(t *testing.T, skey string) ed25519.PrivateKey {
	t.Helper()
	parts := strings.SplitN(skey, "+", 5)
	raw, err := base64.StdEncoding.DecodeString(parts[4])
	if err != nil || len(raw) != 33 {
		t.Fatalf("signer key: %v", err)
	}
	return ed25519.NewKeyFromSeed(raw[1:])
}
