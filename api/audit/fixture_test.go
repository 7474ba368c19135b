package audit_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/mod/sumdb/note"

	"promiseledger/api/audit"
	"promiseledger/eventstore/postgres/pgtest"
	"promiseledger/projections/translog"
	"promiseledger/projections/translog/logtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// key is a note key pair.
type key struct {
	skey, vkey string
	signer     note.Signer
}

func newKey(t testing.TB, name string) key {
	t.Helper()
	skey, vkey, err := translog.GenerateKey(name)
	if err != nil {
		t.Fatal(err)
	}
	s, err := translog.LoadSigner(skey)
	if err != nil {
		t.Fatal(err)
	}
	return key{skey: skey, vkey: vkey, signer: s}
}

// logServer is one database with its log, a checkpointer signing with
// key, and the audit API in an httptest server, mounted at /v1/audit.
type logServer struct {
	*logtest.Env
	key  key
	cp   *translog.Checkpointer
	srv  *httptest.Server
	base string
}

func newLogServer(t testing.TB, k key, witnesses ...string) *logServer {
	t.Helper()
	return newLogServerWith(t, k, func(*audit.Config) {}, witnesses...)
}

// newLogServerWith is newLogServer with the handler's configuration
// changed by configure.
func newLogServerWith(t testing.TB, k key, configure func(*audit.Config), witnesses ...string) *logServer {
	t.Helper()
	e := logtest.New(t)
	cp, err := translog.NewCheckpointerWithConfig(translog.CheckpointerConfig{DB: e.DB, Signer: k.signer})
	if err != nil {
		t.Fatal(err)
	}
	cfg := audit.Config{DB: e.DB, Store: e.Store, Verifier: k.vkey, Witnesses: witnesses, MaxPageSize: 50}
	configure(&cfg)
	h, err := audit.NewHandler(cfg)
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle(audit.PathPrefix+"/", http.StripPrefix(audit.PathPrefix, h))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return &logServer{Env: e, key: k, cp: cp, srv: srv, base: srv.URL + audit.PathPrefix}
}

// grow appends n events, logs them and signs a checkpoint.
func (s *logServer) grow(t testing.TB, n int) translog.Checkpoint {
	t.Helper()
	s.Append(t, n)
	s.CatchUp(t, 100)
	c, _, err := s.cp.CheckpointOnce(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func (s *logServer) verifyConfig(state string) audit.VerifyConfig {
	return audit.VerifyConfig{BaseURL: s.base, VerifierKey: s.key.vkey, StateFile: state, HTTPClient: s.srv.Client()}
}

func stateFile(t testing.TB) string { return filepath.Join(t.TempDir(), "state.json") }

func readFile(t testing.TB, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func get(t testing.TB, url string) *http.Response {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}
