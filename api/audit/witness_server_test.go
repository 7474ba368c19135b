package audit_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"filippo.io/torchwood"
	"golang.org/x/mod/sumdb/note"

	"promiseledger/api/audit"
)

// TestWitnessServerSpeaksTlogWitness: the witness's add-checkpoint
// endpoint (C2SP tlog-witness) cosigns the log's first checkpoint from
// old 0, the next one with a consistency proof, and answers a
// cosignature/v1 line that torchwood's verifier accepts; a stale old size
// gets 409 with the size it last cosigned, a bad proof 422, another log's
// checkpoint 404, a malformed body 400.
func TestWitnessServerSpeaksTlogWitness(t *testing.T) {
	t.Parallel()
	logKey := newKey(t, "ledger.example.kz/log")
	w := newKey(t, "witness.example.org")
	s := newLogServer(t, logKey)
	first := s.grow(t, 10)
	h, err := audit.NewWitnessHandler(audit.WitnessServerConfig{LogVerifierKey: logKey.vkey, WitnessSignerKey: w.skey, StateFile: stateFile(t)})
	if err != nil {
		t.Fatal(err)
	}
	ws := httptest.NewServer(h)
	t.Cleanup(ws.Close)
	post := func(body string) (int, string) {
		t.Helper()
		resp, err := http.Post(ws.URL+"/add-checkpoint", "text/plain", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		return resp.StatusCode, readAll(t, resp)
	}
	signer, _ := torchwood.NewCosignatureSigner(w.signer.Name(), ed25519Of(t, w.skey))
	logV, _ := note.NewVerifier(logKey.vkey)
	checkCosig := func(cpNote, sigs string) {
		t.Helper()
		n, err := note.Open([]byte(cpNote+sigs), note.VerifierList(logV, signer.Verifier()))
		if err != nil || len(n.Sigs) != 2 {
			t.Fatalf("the answer %q does not verify as a cosignature/v1 of the checkpoint: %v", sigs, err)
		}
	}

	if code, body := post("old 0\n\n" + first.Note); code != http.StatusOK {
		t.Fatalf("first checkpoint: %d %s", code, body)
	} else {
		checkCosig(first.Note, body)
	}
	next := s.grow(t, 7)
	var p audit.ConsistencyProof
	if err := json.Unmarshal([]byte(readAll(t, get(t, fmt.Sprintf("%s/proof/consistency?old=%d&new=%d", s.base, first.TreeSize, next.TreeSize)))), &p); err != nil {
		t.Fatal(err)
	}
	proof := strings.Join(p.Proof, "\n") + "\n"
	other := newLogServer(t, newKey(t, "other.example/log"))
	otherCP := other.grow(t, 3)
	bad := strings.Replace(proof, p.Proof[0], p.Proof[len(p.Proof)-1][:43]+"=", 1)
	if p.Proof[0] == p.Proof[len(p.Proof)-1] {
		t.Fatal("proof too short to corrupt")
	}
	for _, tc := range []struct {
		name, body string
		code       int
		want       string
	}{
		{"stale old size", "old 0\n\n" + next.Note, http.StatusConflict, "10\n"},
		{"bad proof", fmt.Sprintf("old %d\n%s\n", first.TreeSize, bad) + next.Note, http.StatusUnprocessableEntity, ""},
		{"another log", "old 0\n\n" + otherCP.Note, http.StatusNotFound, ""},
		{"malformed", "new 3\n\n" + next.Note, http.StatusBadRequest, ""},
		{"good", fmt.Sprintf("old %d\n%s\n", first.TreeSize, proof) + next.Note, http.StatusOK, ""},
	} {
		code, body := post(tc.body)
		if code != tc.code || tc.want != "" && body != tc.want {
			t.Errorf("%s: %d %q, want %d %q", tc.name, code, body, tc.code, tc.want)
		}
		if tc.name == "good" && code == http.StatusOK {
			checkCosig(next.Note, body)
		}
	}
}
