// Package pgerr tells what kind of failure an error from PostgreSQL (through
// lib/pq and database/sql) is, without knowing what the query was for: the
// HTTP layers use it to answer "try again later" rather than "our bug", and
// the operator-facing checks to describe a failure without leaking where
// the database lives.
package pgerr

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"io"
	"net"
	"regexp"
	"strings"
	"syscall"
	"time"

	"github.com/lib/pq"
)

// RetryAfter is what a client is told to wait before trying again while the
// database is unavailable: long enough not to hammer a restarting server,
// short enough that a brief outage costs a brief wait.
const RetryAfter = 2 * time.Second

// Unavailable reports whether err means the database could not be reached
// or dropped the connection, as opposed to refusing the statement: connection
// refused or reset, a dial that timed out, a server shutting down
// (57P01 admin_shutdown, 57P02 crash_shutdown), starting up or in recovery
// (57P03 cannot_connect_now), out of connection slots (53300), any
// connection exception (class 08), and database/sql's and lib/pq's markers
// for a connection that broke mid-use (driver.ErrBadConn, sql.ErrConnDone,
// an unexpected EOF).
//
// A statement that reached the server and failed there (a syntax error, a
// constraint, bad input) is not unavailability, nor is a cancelled context:
// those say something about the request or the code.
func Unavailable(err error) bool {
	if err == nil {
		return false
	}
	var pqErr *pq.Error
	if errors.As(err, &pqErr) {
		return unavailableCode(string(pqErr.Code))
	}
	if errors.Is(err, driver.ErrBadConn) || errors.Is(err, sql.ErrConnDone) || errors.Is(err, io.ErrUnexpectedEOF) {
		return true
	}
	for _, errno := range []syscall.Errno{syscall.ECONNREFUSED, syscall.ECONNRESET, syscall.ECONNABORTED, syscall.EPIPE,
		syscall.ETIMEDOUT, syscall.EHOSTUNREACH, syscall.ENETUNREACH} {
		if errors.Is(err, errno) {
			return true
		}
	}
	// A network operation failing, whatever the cause, including an i/o
	// timeout while dialling. Checked after the errnos, and only for the
	// operations a database connection does.
	var opErr *net.OpError
	if errors.As(err, &opErr) {
		switch opErr.Op {
		case "dial", "read", "write":
			return !errors.Is(err, context.Canceled)
		}
	}
	var dnsErr *net.DNSError
	return errors.As(err, &dnsErr)
}

func unavailableCode(code string) bool {
	switch {
	case strings.HasPrefix(code, "08"): // connection_exception and its subclasses
		return true
	case code == "57P01", code == "57P02", code == "57P03": // admin_shutdown, crash_shutdown, cannot_connect_now
		return true
	case code == "53300": // too_many_connections
		return true
	}
	return false
}

var (
	// urlPattern matches connection URLs, which may carry a password.
	urlPattern = regexp.MustCompile(`\b[a-zA-Z][a-zA-Z0-9+.-]*://[^\s"']+`)
	// keywordPattern matches libpq keyword/value connection strings.
	keywordPattern = regexp.MustCompile(`\b(host|hostaddr|port|user|password|dbname|sslkey|sslcert|sslrootcert|passfile)=('[^']*'|\S+)`)
	// addrPattern matches IPv4 and bracketed IPv6 addresses, with an
	// optional port, and host:port pairs whose host is localhost or has a
	// dot (not a time of day).
	addrPattern = regexp.MustCompile(`\[[0-9a-fA-F:.%a-zA-Z]+\](:\d+)?|\b\d{1,3}(\.\d{1,3}){3}(:\d+)?\b|\b(localhost|[a-zA-Z0-9-]+(\.[a-zA-Z0-9-]+)+):\d{1,5}\b`)
	// socketPattern matches Unix socket paths of PostgreSQL.
	socketPattern = regexp.MustCompile(`\S*/\.s\.PGSQL\.\d+`)
)

// Redact removes from a message what says where the database is or how to
// log in to it — connection URLs, keyword connection strings, addresses,
// host:port pairs and socket paths — so that the rest can be shown to
// whoever may look at a readiness check.
func Redact(msg string) string {
	msg = urlPattern.ReplaceAllString(msg, "<redacted>")
	msg = keywordPattern.ReplaceAllString(msg, "$1=<redacted>")
	msg = socketPattern.ReplaceAllString(msg, "<redacted>")
	msg = addrPattern.ReplaceAllString(msg, "<redacted>")
	return msg
}

// Describe says in a few words, and without addresses or credentials, what
// went wrong with the database: "unavailable" with the cause when it could
// not be reached, otherwise the redacted error.
func Describe(err error) string {
	if err == nil {
		return ""
	}
	if !Unavailable(err) {
		return Redact(err.Error())
	}
	var pqErr *pq.Error
	switch {
	case errors.As(err, &pqErr):
		return "unavailable: " + Redact(pqErr.Message)
	case errors.Is(err, syscall.ECONNREFUSED):
		return "unavailable: connection refused"
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, driver.ErrBadConn), errors.Is(err, sql.ErrConnDone),
		errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, syscall.EPIPE), errors.Is(err, syscall.ECONNABORTED):
		return "unavailable: connection lost"
	}
	var netErr net.Error
	if errors.As(err, &netErr) && netErr.Timeout() {
		return "unavailable: timed out"
	}
	return "unavailable"
}
