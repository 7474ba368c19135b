package translog

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"promiseledger/eventstore/repeatlog"
)

// GenerateKey makes an Ed25519 key pair in note format: skey signs
// checkpoints and stays secret; vkey ("<name>+<hash>+<base64 key>") is what
// journalists pin. The name is conventionally the log's origin, e.g.
// "ledger.example.kz/log".
func GenerateKey(name string) (skey, vkey string, err error) {
	if !validKeyName(name) {
		return "", "", fmt.Errorf("key name %q: want a non-empty name without spaces or '+': %w", name, ErrInvalid)
	}
	skey, vkey, err = note.GenerateKey(rand.Reader, name)
	if err != nil {
		return "", "", fmt.Errorf("translog: generate key: %w", err)
	}
	return skey, vkey, nil
}

func validKeyName(name string) bool {
	return name != "" && utf8Valid(name) && !strings.ContainsAny(name, "+ \t\n")
}

func utf8Valid(s string) bool { return strings.ToValidUTF8(s, "\uFFFD") == s }

// LoadSigner parses a signer key made by GenerateKey.
func LoadSigner(skey string) (note.Signer, error) {
	s, err := note.NewSigner(strings.TrimSpace(skey))
	if err != nil {
		return nil, fmt.Errorf("translog: signer key: %w", err)
	}
	return s, nil
}

// LoadVerifier parses a verifier key made by GenerateKey.
func LoadVerifier(vkey string) (note.Verifier, error) {
	v, err := note.NewVerifier(strings.TrimSpace(vkey))
	if err != nil {
		return nil, fmt.Errorf("translog: verifier key: %w", err)
	}
	return v, nil
}

// Checkpoint is a signed statement of the log's size and root hash.
type Checkpoint struct {
	Origin   string
	TreeSize int64
	RootHash tlog.Hash
	// Note is the signed note as the log signed it: the body, a blank line,
	// and the log's signature line.
	Note      string
	CreatedAt time.Time
}

// Body returns the checkpoint body, the text that is signed.
func (c Checkpoint) Body() string { return string(FormatCheckpoint(c.Origin, c.TreeSize, c.RootHash)) }

// FormatCheckpoint returns a checkpoint body in the transparency-log
// checkpoint format (C2SP tlog-checkpoint): the origin, the tree size in
// decimal and the root hash in standard base64, one per line.
func FormatCheckpoint(origin string, size int64, root tlog.Hash) []byte {
	return fmt.Appendf(nil, "%s\n%d\n%s\n", origin, size, base64.StdEncoding.EncodeToString(root[:]))
}

var errMalformedCheckpoint = errors.New("malformed checkpoint body")

// ParseCheckpoint reads a checkpoint body (the text of a note, without
// its signatures). Lines after the root hash (extensions) are allowed and
// ignored.
func ParseCheckpoint(text string) (origin string, size int64, root tlog.Hash, err error) {
	lines := strings.SplitN(text, "\n", 4)
	if len(lines) < 4 || lines[0] == "" {
		return "", 0, root, errMalformedCheckpoint
	}
	size, err = strconv.ParseInt(lines[1], 10, 64)
	if err != nil || size < 0 || lines[1] != strconv.FormatInt(size, 10) {
		return "", 0, root, errMalformedCheckpoint
	}
	h, err := base64.StdEncoding.DecodeString(lines[2])
	if err != nil || len(h) != tlog.HashSize {
		return "", 0, root, errMalformedCheckpoint
	}
	return lines[0], size, tlog.Hash(h), nil
}

// OpenCheckpoint verifies a signed checkpoint note with the log's verifier
// (and any other known verifiers, such as witnesses) and parses it. It
// fails unless the log's key has signed it.
func OpenCheckpoint(msg []byte, log note.Verifier, others ...note.Verifier) (*note.Note, Checkpoint, error) {
	n, err := note.Open(msg, note.VerifierList(append([]note.Verifier{log}, others...)...))
	if err != nil {
		return nil, Checkpoint{}, fmt.Errorf("checkpoint: %w", err)
	}
	signed := false
	for _, s := range n.Sigs {
		if s.Name == log.Name() && s.Hash == log.KeyHash() {
			signed = true
		}
	}
	if !signed {
		return n, Checkpoint{}, fmt.Errorf("checkpoint is not signed by %s", log.Name())
	}
	origin, size, root, err := ParseCheckpoint(n.Text)
	if err != nil {
		return n, Checkpoint{}, err
	}
	return n, Checkpoint{Origin: origin, TreeSize: size, RootHash: root, Note: string(msg)}, nil
}

const checkpointColumns = `tree_size, root_hash, note, created_at`

func scanCheckpoint(row interface{ Scan(...any) error }) (Checkpoint, error) {
	var c Checkpoint
	var root []byte
	if err := row.Scan(&c.TreeSize, &root, &c.Note, &c.CreatedAt); err != nil {
		return c, err
	}
	if len(root) != tlog.HashSize {
		return c, fmt.Errorf("translog: checkpoint %d: root has %d bytes", c.TreeSize, len(root))
	}
	c.RootHash = tlog.Hash(root)
	c.CreatedAt = c.CreatedAt.UTC()
	origin, _, _, err := ParseCheckpoint(noteText(c.Note))
	if err != nil {
		return c, fmt.Errorf("translog: checkpoint %d: %w", c.TreeSize, err)
	}
	c.Origin = origin
	return c, nil
}

// signed returns the checkpoint as its note states it: origin, tree size
// and root hash parsed from the note's text, which the signature covers.
// The tree_size and root_hash columns beside the note are not signed: a
// database owner can change them without the key. It does not check
// the signature (see OpenCheckpoint); it fails with ErrInconsistent when
// the columns disagree with the text.
func (c Checkpoint) signed() (Checkpoint, error) {
	origin, size, root, err := ParseCheckpoint(noteText(c.Note))
	if err != nil {
		return c, fmt.Errorf("translog: checkpoint %d: its note: %w", c.TreeSize, err)
	}
	signed := c
	signed.Origin, signed.TreeSize, signed.RootHash = origin, size, root
	if size != c.TreeSize || root != c.RootHash {
		return signed, fmt.Errorf("the stored checkpoint says tree size %d and root %s, its signed note tree size %d and root %s: %w",
			c.TreeSize, c.RootHash, size, root, ErrInconsistent)
	}
	return signed, nil
}

// noteText returns the text of a note: everything up to the blank line
// before its signatures, with the final newline.
func noteText(msg string) string {
	if i := strings.LastIndex(msg, "\n\n"); i >= 0 {
		return msg[:i+1]
	}
	return msg
}

// LatestCheckpoint returns the largest checkpoint, or ErrNotFound.
func LatestCheckpoint(ctx context.Context, q Querier) (Checkpoint, error) {
	return oneCheckpoint(ctx, q, `SELECT `+checkpointColumns+` FROM translog_checkpoints ORDER BY tree_size DESC LIMIT 1`)
}

// CheckpointAt returns the checkpoint of a tree size, or ErrNotFound.
func CheckpointAt(ctx context.Context, q Querier, size int64) (Checkpoint, error) {
	return oneCheckpoint(ctx, q, `SELECT `+checkpointColumns+` FROM translog_checkpoints WHERE tree_size = $1`, size)
}

// LatestCosigned returns the largest checkpoint that at least n witnesses
// have cosigned, or ErrNotFound.
func LatestCosigned(ctx context.Context, q Querier, n int) (Checkpoint, error) {
	if n <= 0 {
		return LatestCheckpoint(ctx, q)
	}
	return oneCheckpoint(ctx, q, `SELECT `+checkpointColumns+` FROM translog_checkpoints c
WHERE (SELECT count(*) FROM translog_cosignatures s WHERE s.tree_size = c.tree_size) >= $1
ORDER BY tree_size DESC LIMIT 1`, n)
}

func oneCheckpoint(ctx context.Context, q Querier, query string, args ...any) (Checkpoint, error) {
	c, err := scanCheckpoint(q.QueryRowxContext(ctx, query, args...))
	if errors.Is(err, sql.ErrNoRows) {
		return c, fmt.Errorf("checkpoint: %w", ErrNotFound)
	}
	if err != nil {
		return c, fmt.Errorf("translog: checkpoint: %w", err)
	}
	return c, nil
}

// Checkpoints calls fn for every checkpoint, smallest first.
func Checkpoints(ctx context.Context, q Querier, fn func(Checkpoint) error) error {
	rows, err := q.QueryxContext(ctx, `SELECT `+checkpointColumns+` FROM translog_checkpoints ORDER BY tree_size`)
	if err != nil {
		return fmt.Errorf("translog: checkpoints: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		c, err := scanCheckpoint(rows)
		if err != nil {
			return err
		}
		if err := fn(c); err != nil {
			return err
		}
	}
	return rows.Err()
}

// Cosignature is a witness's signature of a checkpoint.
type Cosignature struct {
	Witness string
	KeyHash uint32
	// Line is the note signature line, "— <name> <base64>" with its newline.
	Line string
}

// Cosignatures returns the witnesses' signatures of checkpoint size, in
// the order they arrived.
func Cosignatures(ctx context.Context, q Querier, size int64) ([]Cosignature, error) {
	rows, err := q.QueryxContext(ctx, `SELECT witness, key_hash, signature FROM translog_cosignatures WHERE tree_size = $1 ORDER BY created_at, witness`, size)
	if err != nil {
		return nil, fmt.Errorf("translog: cosignatures of %d: %w", size, err)
	}
	defer rows.Close()
	var out []Cosignature
	for rows.Next() {
		var c Cosignature
		var h int64
		if err := rows.Scan(&c.Witness, &h, &c.Line); err != nil {
			return nil, err
		}
		c.KeyHash = uint32(h)
		out = append(out, c)
	}
	return out, rows.Err()
}

// AddCosignature stores a witness's signature line of checkpoint size. The
// caller has verified it (see package audit); storing it twice is a no-op.
func AddCosignature(ctx context.Context, db sqlx.ExecerContext, size int64, sig note.Signature) error {
	line := "— " + sig.Name + " " + sig.Base64 + "\n"
	const q = `INSERT INTO translog_cosignatures (tree_size, witness, key_hash, signature) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING`
	if _, err := db.ExecContext(ctx, q, size, sig.Name, int64(sig.Hash), line); err != nil {
		return fmt.Errorf("translog: store cosignature of %d by %s: %w", size, sig.Name, err)
	}
	return nil
}

// WithCosignatures returns the checkpoint's note with the witnesses'
// signature lines appended: still a valid note, which a client opens with
// the log's key and the witnesses' keys it trusts.
func WithCosignatures(c Checkpoint, cosigs []Cosignature) string {
	var b strings.Builder
	b.WriteString(c.Note)
	for _, s := range cosigs {
		if strings.Contains(c.Note, s.Line) {
			continue
		}
		b.WriteString(s.Line)
	}
	return b.String()
}

// SignatureLine returns the signature line signer adds to text: what a
// witness posts as its cosignature.
func SignatureLine(text string, signer note.Signer) (note.Signature, error) {
	msg, err := note.Sign(&note.Note{Text: text}, signer)
	if err != nil {
		return note.Signature{}, err
	}
	line := strings.TrimSuffix(string(msg[len(text)+1:]), "\n")
	name, b64, ok := strings.Cut(strings.TrimPrefix(line, "— "), " ")
	if !ok {
		return note.Signature{}, errors.New("translog: unexpected signature line")
	}
	raw, err := base64.StdEncoding.DecodeString(b64)
	if err != nil || len(raw) < 4 {
		return note.Signature{}, errors.New("translog: unexpected signature line")
	}
	return note.Signature{Name: name, Hash: binary.BigEndian.Uint32(raw), Base64: b64}, nil
}

// CheckpointerConfig configures a Checkpointer.
type CheckpointerConfig struct {
	DB     *sqlx.DB
	Signer note.Signer
	// Origin is the log's name, the first line of every checkpoint
	// (default: the signer's key name, as C2SP recommends).
	Origin string
	// Interval is the shortest time between two checkpoints, across all
	// processes (default 10s). Run checks this often whether the tree grew.
	Interval time.Duration
	// Changed, when set, returns a channel closed when new events may have
	// been appended (postgres.Store.Changed). Run then stops looking once
	// nothing has changed for IdleAfter (default 30s, at least two
	// Intervals), and looks again at the first tick after a change, or
	// after IdleInterval (default 1m) in case a change went unheard. An
	// idle ledger so costs the database a few statements a minute, not a
	// transaction every Interval. Without it Run looks at every tick.
	Changed      func() <-chan struct{}
	IdleAfter    time.Duration
	IdleInterval time.Duration
	Logger       *slog.Logger
}

func (c *CheckpointerConfig) setDefaults() {
	if c.Origin == "" && c.Signer != nil {
		c.Origin = c.Signer.Name()
	}
	if c.Interval == 0 {
		c.Interval = 10 * time.Second
	}
	if c.IdleAfter == 0 {
		c.IdleAfter = max(30*time.Second, 2*c.Interval)
	}
	if c.IdleInterval == 0 {
		c.IdleInterval = max(time.Minute, c.Interval)
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
}

// Validate reports configuration errors.
func (c CheckpointerConfig) Validate() error {
	var errs []error
	if c.DB == nil {
		errs = append(errs, errors.New("translog: DB is required"))
	}
	if c.Signer == nil {
		errs = append(errs, errors.New("translog: Signer is required"))
	}
	if c.Origin == "" || strings.ContainsAny(c.Origin, "\n") || !utf8Valid(c.Origin) {
		errs = append(errs, errors.New("translog: Origin must be one line of UTF-8 text"))
	}
	if c.Interval < 0 || c.IdleAfter < 0 || c.IdleInterval < 0 {
		errs = append(errs, errors.New("translog: Interval, IdleAfter and IdleInterval must not be negative"))
	}
	return errors.Join(errs...)
}

// Checkpointer signs the log's tree as it grows and keeps every checkpoint.
type Checkpointer struct {
	cfg CheckpointerConfig
}

// NewCheckpointerWithConfig returns a Checkpointer.
func NewCheckpointerWithConfig(cfg CheckpointerConfig) (*Checkpointer, error) {
	cfg.setDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &Checkpointer{cfg: cfg}, nil
}

// Run signs a checkpoint whenever the tree has grown, at most once per
// Interval, until ctx ends. Failures are logged and retried at the next
// tick; a tree that does not extend the last checkpoint is never signed.
func (c *Checkpointer) Run(ctx context.Context) error {
	t := time.NewTicker(c.cfg.Interval)
	defer t.Stop()
	// A failure that lasts (the database is down) is logged once, with a
	// count when it ends, not at every tick.
	failures := repeatlog.New(c.cfg.Logger, slog.LevelWarn)
	active := time.Now() // the last change heard, or failure
	for {
		// Taken before looking, so that a change while it looks is heard.
		var changed <-chan struct{}
		if c.cfg.Changed != nil {
			changed = c.cfg.Changed()
		}
		cp, signed, err := c.checkpoint(ctx, true)
		switch {
		case ctx.Err() != nil:
			return ctx.Err()
		case errors.Is(err, ErrInconsistent):
			c.cfg.Logger.Error("refusing to sign a checkpoint: the log was rewritten", "err", err)
		case err != nil:
			active = time.Now() // retried at the next tick
			failures.Failed(ctx, "checkpoint failed", err)
		case signed:
			failures.OK(ctx)
			c.cfg.Logger.Info("checkpoint signed", "tree_size", cp.TreeSize, "root_hash", cp.RootHash.String())
		default:
			failures.OK(ctx)
		}
		if err := c.wait(ctx, t.C, changed, &active); err != nil {
			return err
		}
	}
}

// wait returns at the next tick while the log is active; once nothing has
// changed for IdleAfter, at the first tick after a change or after
// IdleInterval. The tree grows when the log's projector has applied new
// events, a moment after the change is heard: looking on the ticks of the
// next IdleAfter finds it.
func (c *Checkpointer) wait(ctx context.Context, tick <-chan time.Time, changed <-chan struct{}, active *time.Time) error {
	if c.cfg.Changed == nil {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick:
			return nil
		}
	}
	if time.Since(*active) >= c.cfg.IdleAfter {
		idle := time.NewTimer(c.cfg.IdleInterval)
		defer idle.Stop()
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-idle.C:
			return nil
		case <-changed:
			*active = time.Now()
			changed = c.cfg.Changed()
		}
	}
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick:
			return nil
		case <-changed:
			*active = time.Now()
			changed = c.cfg.Changed()
		}
	}
}

// CheckpointOnce signs a checkpoint now if the tree has grown since the
// last one, whatever the interval. It returns the latest checkpoint and
// whether it signed it.
func (c *Checkpointer) CheckpointOnce(ctx context.Context) (Checkpoint, bool, error) {
	return c.checkpoint(ctx, false)
}

// checkpointLock serialises signers across processes.
const checkpointLock = 0x74726e736c6f67 // "trnslog"

func (c *Checkpointer) checkpoint(ctx context.Context, paced bool) (Checkpoint, bool, error) {
	tx, err := c.cfg.DB.BeginTxx(ctx, nil)
	if err != nil {
		return Checkpoint{}, false, fmt.Errorf("translog: checkpoint: %w", err)
	}
	defer tx.Rollback() //nolint:errcheck // no-op after Commit
	if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock($1)`, checkpointLock); err != nil {
		return Checkpoint{}, false, fmt.Errorf("translog: checkpoint lock: %w", err)
	}
	last, err := LatestCheckpoint(ctx, tx)
	hasLast := err == nil
	if err != nil && !errors.Is(err, ErrNotFound) {
		return Checkpoint{}, false, err
	}
	if hasLast {
		// Build on what was signed, never on the unsigned columns.
		if last, err = last.signed(); err != nil {
			return last, false, err
		}
	}
	if hasLast && paced {
		var recent bool
		if err := tx.QueryRowxContext(ctx, `SELECT $1::timestamptz > now() - make_interval(secs => $2)`, last.CreatedAt, c.cfg.Interval.Seconds()).Scan(&recent); err != nil {
			return last, false, fmt.Errorf("translog: checkpoint: %w", err)
		}
		if recent {
			return last, false, nil
		}
	}
	size, err := Size(ctx, tx)
	if err != nil {
		return last, false, err
	}
	if size == 0 || hasLast && size <= last.TreeSize {
		return last, false, nil
	}
	r := NewHashReader(ctx, tx)
	if hasLast {
		if last.Origin != c.cfg.Origin {
			return last, false, fmt.Errorf("translog: the last checkpoint names origin %q, this signer %q: %w", last.Origin, c.cfg.Origin, ErrInvalid)
		}
		// The proof a client will ask for: our tree must contain the last
		// checkpoint's tree as a prefix.
		old, err := tlog.TreeHash(last.TreeSize, r)
		if err != nil {
			return last, false, fmt.Errorf("translog: tree hash at checkpoint %d: %w", last.TreeSize, err)
		}
		if old != last.RootHash {
			return last, false, fmt.Errorf("tree of size %d hashes to %s, checkpoint says %s: %w", last.TreeSize, old, last.RootHash, ErrInconsistent)
		}
	}
	root, err := tlog.TreeHash(size, r)
	if err != nil {
		return last, false, fmt.Errorf("translog: tree hash of size %d: %w", size, err)
	}
	body := FormatCheckpoint(c.cfg.Origin, size, root)
	msg, err := note.Sign(&note.Note{Text: string(body)}, c.cfg.Signer)
	if err != nil {
		return last, false, fmt.Errorf("translog: sign checkpoint: %w", err)
	}
	cp := Checkpoint{Origin: c.cfg.Origin, TreeSize: size, RootHash: root, Note: string(msg)}
	const q = `INSERT INTO translog_checkpoints (tree_size, root_hash, note) VALUES ($1, $2, $3) RETURNING created_at`
	if err := tx.QueryRowxContext(ctx, q, size, root[:], cp.Note).Scan(&cp.CreatedAt); err != nil {
		return last, false, fmt.Errorf("translog: store checkpoint %d: %w", size, err)
	}
	cp.CreatedAt = cp.CreatedAt.UTC()
	if err := tx.Commit(); err != nil {
		return last, false, fmt.Errorf("translog: store checkpoint %d: %w", size, err)
	}
	return cp, true, nil
}
