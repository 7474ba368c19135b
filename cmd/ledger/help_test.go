package main

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"runtime/debug"
	"strings"
	"testing"
	"time"
)

// commandPaths are every command and subcommand main.go dispatches to:
// "serve", "token create", ...
func commandPaths(t *testing.T) [][]string {
	t.Helper()
	var paths [][]string
	for _, c := range commandList() {
		if len(c.subs) == 0 {
			paths = append(paths, []string{c.name})
			continue
		}
		for _, s := range c.subs {
			paths = append(paths, []string{c.name, s.name})
		}
	}
	if len(paths) < 15 {
		t.Fatalf("only %d command paths", len(paths))
	}
	return paths
}

// flagLine is one flag in a help: `  --name TYPE  [LEDGER_X]  default D`
// or `  --name TYPE  (flag only: no variable)`.
var flagLine = regexp.MustCompile(`(?m)^  --([a-z0-9-]+)(?: [a-z0-9]+)?\s+(?:\[(LEDGER_[A-Z0-9_]+)\]|(` + regexp.QuoteMeta(noVariable) + `))`)

type helpFlag struct{ name, variable string }

// helpFlags are the flags a help lists, each with its variable ("" when
// it has none). Every line that starts like a flag must say which.
func helpFlags(t *testing.T, help string) []helpFlag {
	t.Helper()
	var out []helpFlag
	for _, line := range strings.Split(help, "\n") {
		if !strings.HasPrefix(line, "  --") {
			continue
		}
		m := flagLine.FindStringSubmatch(line)
		if m == nil {
			t.Errorf("flag line names neither a variable nor %q: %q", noVariable, line)
			continue
		}
		out = append(out, helpFlag{name: m[1], variable: m[2]})
	}
	return out
}

func helpOf(t *testing.T, path []string) string {
	t.Helper()
	out, stderr, err := runCmd(t, nil, append(path, "--help")...)
	if err != nil {
		t.Fatalf("ledger %s --help: %v\n%s", strings.Join(path, " "), err, stderr)
	}
	return out
}

// TestEveryCommandAnswersHelp: every command path answers --help, -h and
// help with exit status 0 and, on stdout, its description, usage, every
// flag with its variable (or that it has none) and an example.
func TestEveryCommandAnswersHelp(t *testing.T) {
	for _, path := range commandPaths(t) {
		name := strings.Join(path, " ")
		doc, ok := docFor(name)
		if !ok || doc.summary == "" || doc.usage == "" || doc.example == "" {
			t.Errorf("ledger %s: the command table has no summary, usage or example", name)
			continue
		}
		forms := [][]string{
			append(append([]string{}, path...), "--help"),
			append(append([]string{}, path...), "-h"),
			append(append([]string{}, path...), "help"),
			append([]string{"help"}, path...),
		}
		for _, args := range forms {
			t.Run(strings.Join(args, "_"), func(t *testing.T) {
				stdout, stderr, err := runCmd(t, nil, args...)
				if err != nil {
					t.Fatalf("exit status not 0: %v", err)
				}
				if stderr != "" {
					t.Errorf("help wrote to stderr: %q", stderr)
				}
				for _, want := range []string{"ledger " + name + ": " + doc.summary + "\n", "Usage: ledger " + doc.usage + "\n", "Example:\n  " + strings.ReplaceAll(doc.example, "\n", "\n  ")} {
					if !strings.Contains(stdout, want) {
						t.Errorf("help lacks %q:\n%s", want, stdout)
					}
				}
				if !strings.HasPrefix(doc.example, "ledger ") && !strings.Contains(doc.example, " ledger ") {
					t.Errorf("example does not run ledger: %q", doc.example)
				}
				flags := helpFlags(t, stdout)
				if name != "token list" && name != "token revoke" && name != "projections rebuild" && name != "keys show" && len(flags) < 1 {
					t.Errorf("help lists no flags:\n%s", stdout)
				}
			})
		}
	}
}

// TestHelpListsEveryFlagWithItsVariable: the help is made from the flags
// the command defines, whichever way they were defined, each with its
// variable or the words that it has none, and its default.
func TestHelpListsEveryFlagWithItsVariable(t *testing.T) {
	var out, errOut syncBuffer
	f := newFlagSet("serve", "serve [flags]", env{getenv: func(string) string { return "" }, stdout: &out, stderr: &errOut})
	var s string
	var b bool
	var d time.Duration
	f.String(&s, "with-var", "LEDGER_WITH_VAR", "x", "a setting")
	f.Bool(&b, "flag-only", "", false, "one run's choice")
	f.Duration(&d, "every", "LEDGER_EVERY", 5*time.Second, "a period")
	f.fs.String("raw", "r", "defined on the flag.FlagSet itself") // bypasses the helpers
	if done, err := parseOrHelp(f, []string{"--help"}); !done || err != nil {
		t.Fatalf("done %v, err %v", done, err)
	}
	got := helpFlags(t, out.String())
	want := []helpFlag{{"with-var", "LEDGER_WITH_VAR"}, {"flag-only", ""}, {"every", "LEDGER_EVERY"}, {"raw", ""}}
	if len(got) != len(want) {
		t.Fatalf("help lists %v, want %v:\n%s", got, want, out.String())
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("flag %d: %v, want %v", i, got[i], want[i])
		}
	}
	for _, def := range []string{"default x", "default 5s", "default r"} {
		if !strings.Contains(out.String(), def) {
			t.Errorf("help lacks %q:\n%s", def, out.String())
		}
	}
}

// TestHelpOfOneSubcommandIsItsOwn: `token list --help` shows list's usage,
// not create's flags; `keys --help` lists the subcommands instead of
// claiming --key-file is required.
func TestHelpOfOneSubcommandIsItsOwn(t *testing.T) {
	list := helpOf(t, []string{"token", "list"})
	if strings.Contains(list, "--name") || strings.Contains(list, "--role") || !strings.Contains(list, "Usage: ledger token list") {
		t.Errorf("token list --help:\n%s", list)
	}
	keys := helpOf(t, []string{"keys"})
	if strings.Contains(keys, "required") || !strings.Contains(keys, "generate") || !strings.Contains(keys, "show") {
		t.Errorf("keys --help:\n%s", keys)
	}
	status := helpOf(t, []string{"projections", "status"})
	if !strings.Contains(status, "--json") {
		t.Errorf("projections status --help lacks --json:\n%s", status)
	}
	if rebuild := helpOf(t, []string{"projections", "rebuild"}); strings.Contains(rebuild, "--json ") || strings.Contains(rebuild, "--event ") {
		t.Errorf("projections rebuild --help shows another subcommand's flags:\n%s", rebuild)
	}
}

// TestDevHelpSaysDevSignsCheckpoints: dev makes a signing key, so its
// help describes the command and does not say checkpoints go unsigned.
func TestDevHelpSaysDevSignsCheckpoints(t *testing.T) {
	help := helpOf(t, []string{"dev"})
	if strings.Contains(help, "no checkpoints are signed") {
		t.Errorf("dev --help says checkpoints are not signed:\n%s", help)
	}
	for _, want := range []string{"ledger dev: run everything", "log-signing.key", "[LEDGER_SIGNING_KEY_FILE]"} {
		if !strings.Contains(help, want) {
			t.Errorf("dev --help lacks %q:\n%s", want, help)
		}
	}
	if serve := helpOf(t, []string{"serve"}); !strings.Contains(serve, "no checkpoints are signed") {
		t.Errorf("serve --help no longer says a serve without a key signs nothing:\n%s", serve)
	}
}

// TestGroupsWithoutSubcommandExit2: `ledger token` lists the subcommands
// on stderr and is a usage error (exit status 2) saying what it wants; so
// is an unknown subcommand.
func TestGroupsWithoutSubcommandExit2(t *testing.T) {
	for _, c := range commandList() {
		if len(c.subs) == 0 {
			continue
		}
		for _, args := range [][]string{{c.name}, {c.name, "frobnicate"}} {
			t.Run(strings.Join(args, "_"), func(t *testing.T) {
				stdout, stderr, err := runCmd(t, nil, args...)
				var u usageError
				if !errors.As(err, &u) {
					t.Fatalf("got %v, want a usage error (exit status 2)", err)
				}
				if !strings.Contains(err.Error(), c.name+": ") || !strings.Contains(err.Error(), "want "+subNames(c)) {
					t.Errorf("message %q does not say what %s wants", err, c.name)
				}
				if stdout != "" {
					t.Errorf("wrote to stdout: %q", stdout)
				}
				for _, s := range c.subs {
					if !strings.Contains(stderr, "  "+s.name+" ") {
						t.Errorf("stderr does not list %s:\n%s", s.name, stderr)
					}
				}
			})
		}
	}
}

// TestUnknownFlagPrintsUsageOnStderr: a flag a command does not define is
// a usage error, with the command's help on stderr and nothing on stdout.
func TestUnknownFlagPrintsUsageOnStderr(t *testing.T) {
	for _, path := range commandPaths(t) {
		args := append(append([]string{}, path...), "--no-such-flag")
		t.Run(strings.Join(args, "_"), func(t *testing.T) {
			stdout, stderr, err := runCmd(t, nil, args...)
			var u usageError
			if !errors.As(err, &u) || !strings.Contains(err.Error(), "no-such-flag") {
				t.Fatalf("got %v, want a usage error naming the flag", err)
			}
			if stdout != "" {
				t.Errorf("wrote to stdout: %q", stdout)
			}
			if !strings.Contains(stderr, "Usage: ledger "+strings.Join(path, " ")) {
				t.Errorf("no usage on stderr:\n%s", stderr)
			}
		})
	}
}

// TestHelpWorksWithABadVariable: --help needs no valid environment.
func TestHelpWorksWithABadVariable(t *testing.T) {
	if _, _, err := runCmd(t, map[string]string{"LEDGER_READY_MAX_LAG": "soon"}, "serve", "--help"); err != nil {
		t.Fatalf("serve --help with a bad variable: %v", err)
	}
}

// TestEveryFlagHasADocsRow: docs/configuration.md has a row for every
// flag of every command, naming the flag's variable, or "—" when it has
// none (then in a row or section that names the command); and every flag
// the docs name exists.
func TestEveryFlagHasADocsRow(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "..", "docs", "configuration.md"))
	if err != nil {
		t.Fatal(err)
	}
	type row struct{ variable, text, section string }
	var rows []row
	section := ""
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "#") {
			section = line
		}
		if !strings.HasPrefix(line, "| ") {
			continue
		}
		cells := strings.Split(line, "|")
		rows = append(rows, row{variable: strings.TrimSpace(cells[1]), text: line, section: section})
	}
	defined := map[string]bool{}
	for _, path := range commandPaths(t) {
		name := strings.Join(path, " ")
		for _, f := range helpFlags(t, helpOf(t, path)) {
			defined[f.name] = true
			found := false
			for _, r := range rows {
				if !strings.Contains(r.text, "`--"+f.name+"`") {
					continue
				}
				if f.variable != "" && r.variable == "`"+f.variable+"`" {
					found = true
				}
				if f.variable == "" && r.variable == "—" && (strings.Contains(r.text, path[0]) || strings.Contains(r.section, path[0])) {
					found = true
				}
			}
			if !found {
				want := "`" + f.variable + "`"
				if f.variable == "" {
					want = "— (no variable)"
				}
				t.Errorf("ledger %s --%s: no row in docs/configuration.md with variable %s", name, f.name, want)
			}
		}
	}
	for _, m := range regexp.MustCompile("`--([a-z0-9-]+)`").FindAllStringSubmatch(string(b), -1) {
		if !defined[m[1]] && m[1] != "help" {
			t.Errorf("docs/configuration.md names --%s, which no command defines", m[1])
		}
	}
}

// TestVersionDescribesTheBuild: the revision, dirty flag, commit time and
// module version come from the build information; a stamped build time
// and version win; JSON carries the same.
func TestVersionDescribesTheBuild(t *testing.T) {
	bi := &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Path: "promiseledger", Version: "(devel)"},
		Settings: []debug.BuildSetting{
			{Key: "vcs", Value: "git"},
			{Key: "vcs.revision", Value: "7b5ae87c0ffee1234567890abcdef1234567890a"},
			{Key: "vcs.time", Value: "2026-12-05T20:11:00Z"},
			{Key: "vcs.modified", Value: "true"},
		}}
	for _, tc := range []struct {
		name, stamped, buildTime string
		bi                       *debug.BuildInfo
		wantVersion              string
		wantText                 []string
	}{
		{"dirty checkout", "dev", "", bi, "devel-7b5ae87c0ffe-dirty", []string{
			"ledger devel-7b5ae87c0ffe-dirty\n", "module:      promiseledger (devel)\n",
			"revision:    7b5ae87c0ffee1234567890abcdef1234567890a (dirty", "commit time: 2026-12-05T20:11:00Z\n",
			"build time:  unknown", "go:          go1.26.8 "}},
		{"stamped release", "v1.4.0", "2026-12-05T21:00:00Z", bi, "v1.4.0", []string{
			"ledger v1.4.0\n", "build time:  2026-12-05T21:00:00Z\n"}},
		{"module version", "dev", "", &debug.BuildInfo{Main: debug.Module{Path: "promiseledger", Version: "v1.5.0"}}, "v1.5.0", []string{
			"module:      promiseledger v1.5.0\n", "revision:    unknown (built without VCS stamping"}},
		{"no build information", "dev", "", nil, "dev", []string{
			"module:      unknown", "revision:    unknown", "go:          " + runtime.Version()}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := describeBuild(tc.stamped, tc.buildTime, tc.bi)
			if b.Version != tc.wantVersion {
				t.Errorf("version %q, want %q", b.Version, tc.wantVersion)
			}
			text := b.text()
			for _, w := range tc.wantText {
				if !strings.Contains(text, w) {
					t.Errorf("text lacks %q:\n%s", w, text)
				}
			}
		})
	}
	j, err := json.Marshal(describeBuild("dev", "", bi))
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal(j, &got); err != nil {
		t.Fatal(err)
	}
	if got["revision"] != "7b5ae87c0ffee1234567890abcdef1234567890a" || got["dirty"] != true || got["commit_time"] != "2026-12-05T20:11:00Z" || got["module"] != "promiseledger" {
		t.Errorf("JSON: %s", j)
	}
}

// TestVersionOfThisBinary: `ledger version` reports this test binary's
// own build information; its revision when the toolchain recorded one,
// and says it is unknown when not (go test records none today).
func TestVersionOfThisBinary(t *testing.T) {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		t.Skip("the test binary carries no build information")
	}
	rev := ""
	for _, s := range bi.Settings {
		if s.Key == "vcs.revision" {
			rev = s.Value
		}
	}
	stdout, _, err := runCmd(t, nil, "version")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(stdout, "module:      "+bi.Main.Path) || strings.TrimSpace(stdout) == version {
		t.Errorf("version does not describe the build:\n%s", stdout)
	}
	if rev != "" && !strings.Contains(stdout, "revision:    "+rev) {
		t.Errorf("the binary records revision %s; version prints:\n%s", rev, stdout)
	}
	if rev == "" && !strings.Contains(stdout, "revision:    unknown (") {
		t.Errorf("no revision recorded, and version does not say so:\n%s", stdout)
	}
	stdout, _, err = runCmd(t, nil, "version", "--json")
	if err != nil {
		t.Fatal(err)
	}
	var got buildInfo
	if err := json.Unmarshal([]byte(stdout), &got); err != nil {
		t.Fatalf("version --json: %v\n%s", err, stdout)
	}
	if got.Module != bi.Main.Path || got.GoVersion == "" || got.Revision != rev {
		t.Errorf("version --json: %+v", got)
	}
	if _, _, err := runCmd(t, nil, "version", "extra"); err == nil {
		t.Error("version accepted an argument")
	}
}

// TestBadArgumentsTouchNothing: wrong arguments to a database command are
// refused before any connection (the database URL here is unreachable).
func TestBadArgumentsTouchNothing(t *testing.T) {
	vars := map[string]string{"LEDGER_DATABASE_URL": "postgres://nobody@127.0.0.1:1/none?sslmode=disable&connect_timeout=1"}
	for _, args := range [][]string{
		{"token", "list", "extra"},
		{"token", "revoke", "not-a-uuid"},
		{"token", "revoke"},
		{"projections", "status", "extra"},
		{"projections", "rebuild", "no-such-projector"},
		{"projections", "skip", "catalog.v1", "--event", "nope"},
	} {
		t.Run(strings.Join(args, "_"), func(t *testing.T) {
			_, _, err := runCmd(t, vars, args...)
			var u usageError
			if !errors.As(err, &u) {
				t.Fatalf("got %v, want a usage error before connecting", err)
			}
		})
	}
}

var _ = context.Background
