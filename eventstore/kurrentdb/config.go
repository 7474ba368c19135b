package kurrentdb

import (
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"
)

// Config configures a Store.
type Config struct {
	// URL is a KurrentDB connection string, for example
	//	esdb://ledger:secret@db1:2113,db2:2113,db3:2113?tls=true&tlsCAFile=/etc/ledger/ca.pem
	//	esdb+discover://ledger:secret@cluster.internal:2113
	//	esdb://localhost:2113?tls=false
	// TLS is on unless tls=false; tlsVerifyCert=false skips certificate
	// checks (development only). The client sends the user and password only
	// over TLS: with tls=false the server must allow anonymous access.
	URL string

	// StreamPrefix, when set, confines the store to the streams whose names
	// start with it: Append writes StreamPrefix+stream, reads strip it, and
	// ReadAll, Head and Subscribe see only those streams. It lets several
	// logs (tenants, test runs) share one server. It must not start with "$".
	StreamPrefix string

	// Logger receives the adapter's warnings (dropped subscriptions,
	// replaced clients) and, at debug level, the client library's log.
	Logger *slog.Logger

	// ReadPageSize is how many events one read request asks the server for
	// (default eventstore.DefaultPageSize). ReadAll and Head filter on the
	// client (see docs/kurrentdb.md), so they may read several pages.
	ReadPageSize int

	// ConnectTimeout bounds the check in Open that the server answers and
	// each attempt to (re)start a subscription (default 10s).
	ConnectTimeout time.Duration

	// ReconnectMinDelay and ReconnectMaxDelay bound the pause between
	// attempts to resubscribe after a subscription dropped (defaults 100ms
	// and 5s; the pause doubles with every failed attempt).
	ReconnectMinDelay, ReconnectMaxDelay time.Duration

	// AnyRetries bounds how often an Append with eventstore.Any retries after
	// losing a race for the stream's next version (default 10), as in the
	// postgres adapter.
	AnyRetries int
}

// maxReadPageSize keeps one read request within the client's 17 MiB limit
// for ordinary events and a page of them in memory.
const maxReadPageSize = 10_000

func (c *Config) setDefaults() {
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.ReadPageSize == 0 {
		c.ReadPageSize = defaultPageSize
	}
	if c.ConnectTimeout == 0 {
		c.ConnectTimeout = 10 * time.Second
	}
	if c.ReconnectMinDelay == 0 {
		c.ReconnectMinDelay = 100 * time.Millisecond
	}
	if c.ReconnectMaxDelay == 0 {
		c.ReconnectMaxDelay = 5 * time.Second
	}
	if c.AnyRetries == 0 {
		c.AnyRetries = 10
	}
}

// Validate reports configuration errors. The URL itself is parsed by Open.
func (c Config) Validate() error {
	var errs []error
	switch {
	case c.URL == "":
		errs = append(errs, errors.New("kurrentdb: URL is required"))
	case !strings.HasPrefix(c.URL, "esdb://") && !strings.HasPrefix(c.URL, "esdb+discover://"):
		errs = append(errs, fmt.Errorf("kurrentdb: URL %s: want esdb:// or esdb+discover://", redactURL(c.URL)))
	}
	if err := validateStreamPrefix(c.StreamPrefix); err != nil {
		errs = append(errs, err)
	}
	if c.ReadPageSize < 1 || c.ReadPageSize > maxReadPageSize {
		errs = append(errs, fmt.Errorf("kurrentdb: ReadPageSize %d: want 1 to %d", c.ReadPageSize, maxReadPageSize))
	}
	if c.ConnectTimeout <= 0 || c.ReconnectMinDelay <= 0 || c.ReconnectMaxDelay < c.ReconnectMinDelay {
		errs = append(errs, errors.New("kurrentdb: ConnectTimeout and ReconnectMinDelay must be positive and ReconnectMaxDelay at least ReconnectMinDelay"))
	}
	if c.AnyRetries < 0 {
		errs = append(errs, errors.New("kurrentdb: AnyRetries must not be negative"))
	}
	return errors.Join(errs...)
}

// redactURL hides the password of a connection string. net/url cannot parse
// a connection string that lists several hosts, so this works on the text.
func redactURL(u string) string {
	scheme := strings.Index(u, "://")
	if scheme < 0 {
		return u
	}
	rest := u[scheme+3:]
	end := strings.IndexAny(rest, "/?#")
	if end < 0 {
		end = len(rest)
	}
	at := strings.LastIndex(rest[:end], "@")
	if at < 0 {
		return u
	}
	user, _, hasPassword := strings.Cut(rest[:at], ":")
	if !hasPassword {
		return u
	}
	return u[:scheme+3] + user + ":xxxxx" + rest[at:]
}
