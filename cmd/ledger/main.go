// Command ledger runs PromiseLedger: the API, the projectors, the private
// development database, and the operator's tools. Run `ledger help`.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "ledger:", err)
		var u usageError
		if errors.As(err, &u) {
			os.Exit(2)
		}
		os.Exit(1)
	}
}

// usageError is a mistake in the command line: exit status 2.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return usageError{fmt.Sprintf(format, args...)} }

// env is the process environment, passed in so tests can set it.
type env struct {
	getenv func(string) string
	stdout io.Writer
	stderr io.Writer
}

type command struct {
	name, summary string
	run           func(ctx context.Context, e env, args []string) error
}

func commandList() []command {
	return []command{
		{"dev", "run everything on this machine with zero configuration (private PostgreSQL, demo data, API, projectors)", runDev},
		{"serve", "run the API and the projectors (or one of them) against LEDGER_DATABASE_URL", runServe},
		{"migrate", "create or upgrade the database schema", runMigrate},
		{"import", "load roadmaps and indicators from a CSV or JSON file, all or nothing", runImport},
		{"token", "create, list or revoke API tokens", runToken},
		{"projections", "show projector status, or rebuild one without downtime", runProjections},
		{"keys", "generate or show the transparency log's signing key", runKeys},
		{"verify", "verify a ledger's history against its signed checkpoints", runVerify},
		{"witness", "cosign a ledger's checkpoint after checking it extends the last one you cosigned", runWitness},
		{"version", "print the version", runVersion},
	}
}

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	e := env{getenv: getenv, stdout: stdout, stderr: stderr}
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		printUsage(stdout)
		if len(args) == 0 {
			return usagef("no command given")
		}
		return nil
	}
	for _, c := range commandList() {
		if c.name == args[0] {
			return c.run(ctx, e, args[1:])
		}
	}
	return usagef("unknown command %q (run `ledger help`)", args[0])
}

func printUsage(w io.Writer) {
	fmt.Fprintln(w, "ledger: PromiseLedger, the system of record of election promises")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Usage: ledger COMMAND [flags]   (ledger COMMAND --help for its flags)")
	fmt.Fprintln(w)
	for _, c := range commandList() {
		fmt.Fprintf(w, "  %-12s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Every flag can also be set with its LEDGER_* environment variable (see docs/configuration.md).")
}

func runVersion(_ context.Context, e env, args []string) error {
	if len(args) == 1 && (args[0] == "--help" || args[0] == "-h") {
		fmt.Fprintln(e.stderr, "Usage: ledger version")
		return nil
	}
	if len(args) > 0 {
		return usagef("version takes no arguments")
	}
	fmt.Fprintln(e.stdout, version)
	return nil
}
