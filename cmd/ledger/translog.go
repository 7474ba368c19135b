package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"

	"promiseledger/api"
	"promiseledger/api/audit"
	"promiseledger/eventstore"
	"promiseledger/projections"
	"promiseledger/projections/translog"
)

// ledgerProjectors are every projector a ledger runs: the read models and
// the transparency log.
func ledgerProjectors() []projections.Projector {
	return append(projections.All(), translog.Projector{})
}

func projectorByName(name string) (projections.Projector, bool) {
	for _, p := range ledgerProjectors() {
		if p.Name() == name {
			return p, true
		}
	}
	return nil, false
}

// logConfig are the transparency log's settings.
type logConfig struct {
	SigningKeyFile     string
	PublicKey          string
	Origin             string
	CheckpointInterval time.Duration
	WitnessKeys        string
}

func (c *logConfig) register(f *flagSet) {
	f.String(&c.SigningKeyFile, "signing-key-file", "LEDGER_SIGNING_KEY_FILE", "", "the transparency log's signing key (ledger keys generate); without it no checkpoints are signed")
	f.String(&c.PublicKey, "log-public-key", "LEDGER_LOG_PUBLIC_KEY", "", "the log's public key, for API processes that do not hold the signing key")
	f.Duration(&c.CheckpointInterval, "checkpoint-interval", "LEDGER_CHECKPOINT_INTERVAL", 10*time.Second, "at most one signed checkpoint per interval, when the log has grown")
	f.String(&c.WitnessKeys, "witness-keys", "LEDGER_WITNESS_KEYS", "", "comma-separated public keys of witnesses whose cosignatures are accepted")
}

// keyFile is the signing key file: the signer key, then the verifier key.
type keyFile struct{ signer, verifier string }

func readKeyFile(path string) (keyFile, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return keyFile{}, fmt.Errorf("signing key: %w", err)
	}
	var k keyFile
	for _, line := range strings.Split(string(b), "\n") {
		line = strings.TrimSpace(line)
		switch {
		case strings.HasPrefix(line, "PRIVATE+KEY+"):
			k.signer = line
		case line != "" && !strings.HasPrefix(line, "#"):
			k.verifier = line
		}
	}
	if k.signer == "" || k.verifier == "" {
		return keyFile{}, fmt.Errorf("signing key %s: want a signer key and a verifier key line (made by `ledger keys generate`)", path)
	}
	if _, err := translog.LoadSigner(k.signer); err != nil {
		return keyFile{}, err
	}
	return k, nil
}

func writeKeyFile(path, origin string) (keyFile, error) {
	skey, vkey, err := translog.GenerateKey(origin)
	if err != nil {
		return keyFile{}, err
	}
	body := "# PromiseLedger transparency log key. Keep the first line secret; publish the second.\n" + skey + "\n" + vkey + "\n"
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return keyFile{}, err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return keyFile{}, fmt.Errorf("write signing key: %w", err)
	}
	if _, err := f.WriteString(body); err != nil {
		f.Close()
		return keyFile{}, err
	}
	return keyFile{skey, vkey}, f.Close()
}

// logPublicKey is the log's public key for the audit page, or "" when none
// is configured (or the key file cannot be read: auditMount reports that).
func logPublicKey(c logConfig) string {
	if c.PublicKey != "" || c.SigningKeyFile == "" {
		return c.PublicKey
	}
	k, err := readKeyFile(c.SigningKeyFile)
	if err != nil {
		return ""
	}
	return k.verifier
}

// auditMount serves the audit API when the log's public key is known.
func auditMount(c logConfig, db *sqlx.DB, store eventstore.Store, logger *slog.Logger, maxPageSize int) ([]api.Mount, error) {
	pub := c.PublicKey
	if pub == "" && c.SigningKeyFile != "" {
		k, err := readKeyFile(c.SigningKeyFile)
		if err != nil {
			return nil, err
		}
		pub = k.verifier
	}
	if pub == "" {
		logger.Warn("no log key configured (LEDGER_SIGNING_KEY_FILE or LEDGER_LOG_PUBLIC_KEY): the audit API is off")
		return nil, nil
	}
	h, err := audit.NewHandler(audit.Config{DB: db, Store: store, Verifier: pub, Witnesses: splitList(c.WitnessKeys), Logger: logger,
		MaxPageSize: maxPageSize}) // the one configured maximum, as for every list
	if err != nil {
		return nil, err
	}
	return []api.Mount{{Prefix: audit.PathPrefix, Handler: h, Ops: audit.Operations()}}, nil
}

// newCheckpointer is the log's checkpointer, signing with the key in
// c.SigningKeyFile. A store that says when the log changes (PostgreSQL's)
// lets it rest while the ledger is idle.
func newCheckpointer(c logConfig, db *sqlx.DB, store eventstore.Store, logger *slog.Logger) (*translog.Checkpointer, error) {
	k, err := readKeyFile(c.SigningKeyFile)
	if err != nil {
		return nil, err
	}
	signer, err := translog.LoadSigner(k.signer)
	if err != nil {
		return nil, err
	}
	cfg := translog.CheckpointerConfig{DB: db, Signer: signer, Origin: signer.Name(), Interval: c.CheckpointInterval, Logger: logger}
	if s, ok := store.(interface{ Changed() <-chan struct{} }); ok {
		cfg.Changed = s.Changed
	}
	return translog.NewCheckpointerWithConfig(cfg)
}

// runCheckpointer signs checkpoints until ctx ends.
func runCheckpointer(ctx context.Context, c logConfig, db *sqlx.DB, store eventstore.Store, logger *slog.Logger) error {
	cp, err := newCheckpointer(c, db, store, logger)
	if err != nil {
		return err
	}
	err = cp.Run(ctx)
	if errors.Is(err, context.Canceled) {
		return nil
	}
	return err
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func runKeys(ctx context.Context, e env, args []string) error {
	if len(args) == 0 {
		return usagef("keys: want generate or show")
	}
	var file, origin string
	f := newFlagSet("keys "+args[0], "keys generate --key-file FILE --origin NAME | keys show --key-file FILE", e)
	f.String(&file, "key-file", "LEDGER_SIGNING_KEY_FILE", "", "where the key is (generate: is written; it must not exist)")
	if args[0] == "generate" {
		f.String(&origin, "origin", "LEDGER_LOG_ORIGIN", "promiseledger.local/log", "the log's name: the first line of every checkpoint and the key's name")
	}
	if done, err := parseOrHelp(f, args[1:]); done || err != nil {
		return err
	}
	if file == "" {
		return usagef("keys: --key-file (or LEDGER_SIGNING_KEY_FILE) is required")
	}
	switch args[0] {
	case "generate":
		k, err := writeKeyFile(file, origin)
		if err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "wrote the signing key to %s (keep it secret)\npublic key, for journalists to pin:\n%s\n", file, k.verifier)
		return nil
	case "show":
		k, err := readKeyFile(file)
		if err != nil {
			return err
		}
		fmt.Fprintln(e.stdout, k.verifier)
		return nil
	}
	return usagef("keys: unknown subcommand %q (want generate or show)", args[0])
}

func runVerify(ctx context.Context, e env, args []string) error {
	var c common
	var url, key, state, stream, witnessKeys, tileCache string
	var witnesses int
	var database, asJSON, tiles bool
	f := newFlagSet("verify", "verify --url URL --key PUBLIC-KEY [--stream S] [--json] | verify --database", e)
	c.register(f)
	f.String(&url, "url", "LEDGER_VERIFY_URL", "", "the ledger's base URL, e.g. https://ledger.example.kz")
	f.String(&key, "key", "LEDGER_VERIFY_KEY", "", "the log's public key you pinned (ledger keys show)")
	f.String(&state, "state", "LEDGER_VERIFY_STATE", "ledger-verify.state", "file of the checkpoints seen before (created and updated)")
	f.String(&stream, "stream", "", "", "verify one stream (e.g. roadmap-ID) instead of the whole log")
	f.Int(&witnesses, "require-witnesses", "", 0, "how many of --witness-keys must have cosigned")
	f.String(&witnessKeys, "witness-keys", "", "", "comma-separated public keys of the witnesses you trust")
	f.Bool(&tiles, "tiles", "", true, "read the whole log as C2SP tlog-tiles (false: the NDJSON export)")
	f.String(&tileCache, "tile-cache", "LEDGER_VERIFY_TILE_CACHE", "", "directory of verified tiles kept between runs (default: the state file's name + .tiles)")
	f.Bool(&asJSON, "json", "", false, "print the full report as JSON instead of a summary")
	f.Bool(&database, "database", "", false, "server side: re-hash every stored event against the stored tree (needs --database-url)")
	if done, err := parseOrHelp(f, args); done || err != nil {
		return err
	}
	if len(f.Args()) > 0 {
		return usagef("verify takes no arguments, got %q", f.Args())
	}
	if database {
		return verifyDatabase(ctx, e, c)
	}
	if url == "" || key == "" {
		return usagef("verify: --url and --key are required (or --database)")
	}
	if _, err := translog.LoadVerifier(key); err != nil {
		return usagef("verify: --key is not a log public key (want NAME+HASH+BASE64, as ledger keys show prints): %v", err)
	}
	if tileCache == "" && state != "" {
		tileCache = state + ".tiles"
	}
	started := time.Now()
	report, err := audit.Verify(ctx, audit.VerifyConfig{BaseURL: auditBase(url), VerifierKey: key, StateFile: state, Stream: stream,
		RequireWitnesses: witnesses, WitnessKeys: splitList(witnessKeys), Progress: verifyProgress(e.stderr, time.Now),
		Tiles: tiles, TileCache: tileCache})
	if line, ok := wrongKey(report, key); ok && !asJSON {
		return errors.New(line) // one line, from main
	}
	if asJSON {
		printJSON(e, report)
	} else {
		printVerifySummary(e.stdout, report, err, time.Since(started))
	}
	if err != nil {
		return fmt.Errorf("verification FAILED: %w", err)
	}
	return nil
}

func verifyDatabase(ctx context.Context, e env, c common) error {
	if err := c.validate(true); err != nil {
		return err
	}
	svc, err := openServices(ctx, c, false, c.logger(e))
	if err != nil {
		return err
	}
	defer svc.close()
	report, err := translog.VerifyDatabase(ctx, svc.db, svc.store)
	if err != nil {
		return err
	}
	printJSON(e, report)
	if !report.OK() {
		return fmt.Errorf("verification FAILED: %d mismatches between the stored events and the log", len(report.Mismatches)+int(report.Omitted))
	}
	fmt.Fprintf(e.stderr, "verified: %d events re-hashed, all match the stored tree\n", report.EventsRead)
	return nil
}

func runWitness(ctx context.Context, e env, args []string) error {
	var url, logKey, keyFile, state, listen string
	f := newFlagSet("witness", "witness --url URL --log-key PUBLIC-KEY --key-file WITNESS-KEY | witness --listen ADDR --log-key PUBLIC-KEY --key-file WITNESS-KEY", e)
	f.String(&url, "url", "LEDGER_VERIFY_URL", "", "the ledger's base URL")
	f.String(&logKey, "log-key", "LEDGER_VERIFY_KEY", "", "the log's public key")
	f.String(&keyFile, "key-file", "LEDGER_WITNESS_KEY_FILE", "", "your witness key (made with ledger keys generate)")
	f.String(&state, "state", "LEDGER_WITNESS_STATE", "ledger-witness.state", "the last checkpoint you cosigned (created and updated)")
	f.String(&listen, "listen", "LEDGER_WITNESS_ADDR", "", "serve the C2SP tlog-witness protocol (POST /add-checkpoint) on this address instead of fetching from --url")
	if done, err := parseOrHelp(f, args); done || err != nil {
		return err
	}
	if len(f.Args()) > 0 {
		return usagef("witness takes no arguments, got %q", f.Args())
	}
	if (url == "") == (listen == "") || logKey == "" || keyFile == "" {
		return usagef("witness: --log-key, --key-file and one of --url or --listen are required")
	}
	k, err := readKeyFile(keyFile)
	if err != nil {
		return err
	}
	if listen != "" {
		return serveWitness(ctx, e, listen, audit.WitnessServerConfig{LogVerifierKey: logKey, WitnessSignerKey: k.signer, StateFile: state})
	}
	report, err := audit.Witness(ctx, audit.WitnessConfig{BaseURL: auditBase(url), LogVerifierKey: logKey, WitnessSignerKey: k.signer, StateFile: state})
	printJSON(e, report)
	if err != nil {
		return fmt.Errorf("witness refused to cosign: %w", err)
	}
	return nil
}

// serveWitness answers tlog-witness add-checkpoint requests until ctx ends.
func serveWitness(ctx context.Context, e env, addr string, cfg audit.WitnessServerConfig) error {
	h, err := audit.NewWitnessHandler(cfg)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second, WriteTimeout: 30 * time.Second}
	fmt.Fprintf(e.stderr, "witness: serving POST http://%s/add-checkpoint (C2SP tlog-witness)\n", ln.Addr())
	go func() {
		<-ctx.Done()
		shut, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(shut) //nolint:errcheck // stopping anyway
	}()
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// auditBase accepts the ledger's URL with or without the audit prefix.
func auditBase(url string) string {
	url = strings.TrimRight(url, "/")
	if strings.HasSuffix(url, audit.PathPrefix) {
		return url
	}
	return url + audit.PathPrefix
}
