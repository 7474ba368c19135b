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
	"slices"
	"strings"
	"syscall"
)

func main() { runAndExit() }

// runAndExit runs the command line and exits: 2 for a usage error, 1 for
// any other (the README tour test's stand-in for `ledger` calls it too).
func runAndExit() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	version = effectiveVersion(version, readBuildInfo())
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
	os.Exit(0)
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

// commandDoc is what `--help` says about a command path beyond its flags.
type commandDoc struct {
	summary   string // one line
	usage     string // the usage line after "ledger "
	more      string // optional: a paragraph after the usage line
	example   string
	flagNotes map[string]flagNote // per-command wording of a shared flag
}

// flagNote rewords a flag that several commands share where one command
// treats it differently (dev makes the signing key serve expects).
type flagNote struct{ usage, def string }

type command struct {
	name string
	commandDoc
	run  func(ctx context.Context, e env, args []string) error
	subs []subcommand // a group's subcommands: run receives the subcommand's name first
}

type subcommand struct {
	name string
	commandDoc
}

func commandList() []command {
	return []command{
		{name: "dev", run: runDev, commandDoc: commandDoc{
			summary: "run everything on this machine with zero configuration (private PostgreSQL, demo data, API, projectors)",
			usage:   "dev [flags]",
			more: "Without --database-url, dev starts a private PostgreSQL under --data-dir and keeps it running.\n" +
				"On first start it loads the demo data, makes the transparency log's signing key and an admin\n" +
				"token in --data-dir, and prints the token; later starts reuse all three. Checkpoints are signed.",
			example: "LEDGER_DEMO_SCALE=0.1 ledger dev --addr 127.0.0.1:9090",
			flagNotes: map[string]flagNote{
				"database-url":     {usage: "PostgreSQL URL to use instead of the private server dev starts under --data-dir", def: "(the private server)"},
				"signing-key-file": {usage: "the transparency log's signing key; when unset, dev uses log-signing.key in --data-dir, made on first start", def: "DATA-DIR/log-signing.key"},
				"migrate":          {usage: "dev always applies the migrations at start; this flag is accepted and ignored"},
			},
		}},
		{name: "serve", run: runServe, commandDoc: commandDoc{
			summary: "run the API and the projectors (or one of them) against LEDGER_DATABASE_URL",
			usage:   "serve [--api-only | --projectors-only] [flags]",
			example: "LEDGER_DATABASE_URL='postgres://ledger@db:5432/ledger?sslmode=require' \\\n    LEDGER_SIGNING_KEY_FILE=/secrets/log.key ledger serve --projectors-only",
		}},
		{name: "migrate", run: runMigrate, commandDoc: commandDoc{
			summary: "create or upgrade the database schema, then exit",
			usage:   "migrate [flags]",
			example: "ledger migrate --database-url 'postgres://ledger@db:5432/ledger?sslmode=require'",
		}},
		{name: "import", run: runImport, commandDoc: commandDoc{
			summary: "load roadmaps and indicators from a CSV or JSON file, all or nothing (docs/import.md)",
			usage:   "import --file FILE [--dry-run] [--json] [flags]",
			example: "ledger import --file roadmaps-2026.csv --dry-run",
		}},
		{name: "token", run: runToken, commandDoc: commandDoc{
			summary: "create, list or revoke API tokens",
			usage:   "token create|list|revoke [flags]",
			example: "ledger token create --name newsroom --role officer --person p-17",
		}, subs: []subcommand{
			{"create", commandDoc{
				summary: "make an API token and print its secret, once (only its hash is stored)",
				usage:   "token create --name NAME --role admin|officer|council|deputy [--person ID] [flags]",
				example: "ledger token create --name newsroom --role officer --person p-17",
			}},
			{"list", commandDoc{
				summary: "list the API tokens: id, name, role, person, created, revoked",
				usage:   "token list [flags]",
				example: "ledger token list --database-url \"$(cat .ledger/database-url)\"",
			}},
			{"revoke", commandDoc{
				summary: "revoke an API token by its id (token list shows it); requests with it get 401 at once",
				usage:   "token revoke ID [flags]",
				example: "ledger token revoke 0b7c6f5e-3d4a-4c1e-9a57-2f0d8e6b1c23",
			}},
		}},
		{name: "projections", run: runProjections, commandDoc: commandDoc{
			summary: "show projector status, rebuild one without downtime, or skip an event one cannot apply",
			usage:   "projections status|rebuild|skip [flags]",
			example: "ledger projections status",
		}, subs: []subcommand{
			{"status", commandDoc{
				summary: "show each projector's generation, checkpoint, lag and the event it stopped on, if any",
				usage:   "projections status [--json] [flags]",
				example: "ledger projections status --json",
			}},
			{"rebuild", commandDoc{
				summary: "rebuild read models (one, several, or all in turn), each into a new generation from the first event, then switch to it",
				usage:   "projections rebuild NAME [NAME...] | all [flags]",
				example: "ledger projections rebuild catalog.v1",
			}},
			{"skip", commandDoc{
				summary: "let a stopped projector pass over the event it cannot apply, recording who decided and why",
				usage:   "projections skip NAME --event ID --reason TEXT --by WHO [flags]",
				example: "ledger projections skip catalog.v1 --event 01a2c3d4-0000-4000-8000-00000000fcd5 \\\n    --reason \"malformed unit, corrected by a later event\" --by \"on-call: A. Sadykova\"",
			}},
		}},
		{name: "keys", run: runKeys, commandDoc: commandDoc{
			summary: "generate or show the transparency log's signing key",
			usage:   "keys generate|show [flags]",
			example: "ledger keys generate --key-file /secrets/log.key --origin ledger.example.kz/log",
		}, subs: []subcommand{
			{"generate", commandDoc{
				summary: "write a new signing key file (never overwrites one) and print its public key",
				usage:   "keys generate --key-file FILE [--origin NAME]",
				example: "ledger keys generate --key-file /secrets/log.key --origin ledger.example.kz/log",
			}},
			{"show", commandDoc{
				summary: "print the public key of a signing key file, for journalists to pin",
				usage:   "keys show --key-file FILE",
				example: "ledger keys show --key-file .ledger/log-signing.key",
			}},
		}},
		{name: "verify", run: runVerify, commandDoc: commandDoc{
			summary: "verify a ledger's history against its signed checkpoints",
			usage:   "verify --url URL --key PUBLIC-KEY [--stream STREAM] [flags] | verify --database [flags]",
			example: "ledger verify --url https://ledger.example.kz --key \"$(cat ledger-log.pub)\"",
		}},
		{name: "witness", run: runWitness, commandDoc: commandDoc{
			summary: "cosign a ledger's checkpoint after checking it extends the last one you cosigned",
			usage:   "witness --url URL --log-key PUBLIC-KEY --key-file WITNESS-KEY [flags]",
			example: "ledger witness --url https://ledger.example.kz --log-key \"$(cat ledger-log.pub)\" --key-file witness.key",
		}},
		{name: "version", run: runVersion, commandDoc: commandDoc{
			summary: "print the version, VCS revision and build time of this binary",
			usage:   "version [--json]",
			example: "ledger version --json",
		}},
	}
}

// docFor finds the documentation of a command path ("serve", "token
// create").
func docFor(path string) (commandDoc, bool) {
	name, sub, _ := strings.Cut(path, " ")
	for _, c := range commandList() {
		if c.name != name {
			continue
		}
		if sub == "" {
			return c.commandDoc, true
		}
		for _, s := range c.subs {
			if s.name == sub {
				return s.commandDoc, true
			}
		}
	}
	return commandDoc{}, false
}

// version is set at build time with -ldflags "-X main.version=..."; main
// falls back to the module version or VCS revision when it is not.
var version = "dev"

func isHelpArg(a string) bool {
	return a == "help" || a == "-h" || a == "-help" || a == "--help"
}

func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	e := env{getenv: getenv, stdout: stdout, stderr: stderr}
	if len(args) == 0 {
		printUsage(stderr)
		return usagef("no command given")
	}
	if isHelpArg(args[0]) {
		if args[0] == "help" && len(args) > 1 {
			// ledger help token create = ledger token create --help
			return run(ctx, append(slices.Clone(args[1:]), "--help"), getenv, stdout, stderr)
		}
		printUsage(stdout)
		return nil
	}
	i := slices.IndexFunc(commandList(), func(c command) bool { return c.name == args[0] })
	if i < 0 {
		return usagef("unknown command %q (run `ledger help`)", args[0])
	}
	c := commandList()[i]
	rest := slices.Clone(args[1:])
	if len(c.subs) == 0 {
		if len(rest) == 1 && rest[0] == "help" {
			rest[0] = "--help"
		}
		return c.run(ctx, e, rest)
	}
	switch {
	case len(rest) == 0:
		printGroupHelp(stderr, c)
		fmt.Fprintln(stderr)
		return usagef("%s: missing subcommand: want %s", c.name, subNames(c))
	case isHelpArg(rest[0]):
		printGroupHelp(stdout, c)
		return nil
	case !slices.ContainsFunc(c.subs, func(s subcommand) bool { return s.name == rest[0] }):
		printGroupHelp(stderr, c)
		fmt.Fprintln(stderr)
		return usagef("%s: unknown subcommand %q: want %s", c.name, rest[0], subNames(c))
	}
	if len(rest) == 2 && rest[1] == "help" {
		rest[1] = "--help"
	}
	return c.run(ctx, e, rest)
}

// subNames are a group's subcommands as prose: "create, list or revoke".
func subNames(c command) string {
	names := make([]string, len(c.subs))
	for i, s := range c.subs {
		names[i] = s.name
	}
	if len(names) < 2 {
		return strings.Join(names, "")
	}
	return strings.Join(names[:len(names)-1], ", ") + " or " + names[len(names)-1]
}

func printUsage(w io.Writer) {
	fmt.Fprintln(w, "ledger: PromiseLedger, the system of record of election promises")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Usage: ledger COMMAND [SUBCOMMAND] [flags]   (ledger COMMAND --help for its flags)")
	fmt.Fprintln(w)
	for _, c := range commandList() {
		fmt.Fprintf(w, "  %-12s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Most flags can also be set with a LEDGER_* variable: `ledger COMMAND --help` names each")
	fmt.Fprintln(w, "flag's variable or says it has none; docs/configuration.md lists them all.")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Example:")
	fmt.Fprintln(w, "  ledger dev")
}

func printGroupHelp(w io.Writer, c command) {
	fmt.Fprintf(w, "ledger %s: %s\n\n", c.name, c.summary)
	fmt.Fprintf(w, "Usage: ledger %s\n\nSubcommands:\n", c.usage)
	for _, s := range c.subs {
		fmt.Fprintf(w, "  %-10s %s\n", s.name, s.summary)
	}
	fmt.Fprintf(w, "\nExample:\n  %s\n", c.example)
	fmt.Fprintf(w, "\n`ledger %s SUBCOMMAND --help` lists a subcommand's flags and their LEDGER_* variables.\n", c.name)
}
