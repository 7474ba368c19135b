package audit

import (
	"encoding/base64"
	"encoding/json"
	"net/http/httptest"
	"strings"
	"testing"

	"promiseledger/projections/translog"
)

// TestKeyAnswerWithPlusInTheKey: a verifier key's base64 part may hold
// '+', the separator of its other parts; GET /key once split on every '+'
// and then left the public key and its hash out.
func TestKeyAnswerWithPlusInTheKey(t *testing.T) {
	t.Parallel()
	var vkey string
	for range 1000 {
		_, v, err := translog.GenerateKey("log.example")
		if err != nil {
			t.Fatal(err)
		}
		if strings.Count(v, "+") > 2 {
			vkey = v
			break
		}
	}
	if vkey == "" {
		t.Fatal("no key with '+' in its base64 among 1000")
	}
	h := &handler{cfg: Config{Verifier: vkey, Origin: "log.example"}}
	w := httptest.NewRecorder()
	if err := h.key(w, httptest.NewRequest("GET", "/key", nil)); err != nil {
		t.Fatal(err)
	}
	var k LogKey
	if err := json.Unmarshal(w.Body.Bytes(), &k); err != nil {
		t.Fatal(err)
	}
	parts := strings.SplitN(vkey, "+", 3)
	raw, _ := base64.StdEncoding.DecodeString(parts[2])
	if k.KeyHash != parts[1] || k.PublicKey != base64.StdEncoding.EncodeToString(raw[1:]) || k.VerifierKey != vkey {
		t.Errorf("GET /key for %s: %+v", vkey, k)
	}
}
