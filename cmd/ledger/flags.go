package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

// flagSet is a flag.FlagSet whose defaults come from LEDGER_* variables:
// a flag on the command line beats its variable, which beats the default.
type flagSet struct {
	args     []string
	fs       *flag.FlagSet
	e        env
	errs     []error
	vars     []envVar
	synopsis string
}

// envVar documents a flag and its variable ("" when the flag has none);
// the help prints them and docs/configuration.md lists them all (a test
// checks that).
type envVar struct {
	Flag, Name, Default, Usage string
}

// newFlagSet makes the flags of the command path name ("serve", "token
// create"). The command table in main.go gives the path's description,
// usage line and example; synopsis is the usage line when it has none.
func newFlagSet(name, synopsis string, e env) *flagSet {
	f := &flagSet{fs: flag.NewFlagSet(name, flag.ContinueOnError), e: e, synopsis: synopsis}
	// Parse prints the help itself: on stdout when asked for, on stderr
	// beside a mistake.
	f.fs.SetOutput(io.Discard)
	f.fs.Usage = func() {}
	return f
}

func (f *flagSet) lookup(envName, def string) string {
	if envName == "" {
		return def
	}
	if v, ok := f.getenv(envName); ok {
		return v
	}
	return def
}

func (f *flagSet) getenv(name string) (string, bool) {
	if name == "" {
		return "", false
	}
	v := f.e.getenv(name)
	return v, v != ""
}

func (f *flagSet) note(flagName, envName, def, usage string) string {
	f.vars = append(f.vars, envVar{Flag: flagName, Name: envName, Default: def, Usage: usage})
	return usage
}

func (f *flagSet) String(p *string, name, envName, def, usage string) {
	f.fs.StringVar(p, name, f.lookup(envName, def), f.note(name, envName, def, usage))
}

func (f *flagSet) Bool(p *bool, name, envName string, def bool, usage string) {
	v := def
	if s, ok := f.getenv(envName); ok {
		b, err := strconv.ParseBool(s)
		if err != nil {
			f.errs = append(f.errs, fmt.Errorf("%s=%q: want true or false", envName, s))
		}
		v = b
	}
	f.fs.BoolVar(p, name, v, f.note(name, envName, strconv.FormatBool(def), usage))
}

func (f *flagSet) Int(p *int, name, envName string, def int, usage string) {
	v := def
	if s, ok := f.getenv(envName); ok {
		n, err := strconv.Atoi(s)
		if err != nil {
			f.errs = append(f.errs, fmt.Errorf("%s=%q: want a whole number", envName, s))
		}
		v = n
	}
	f.fs.IntVar(p, name, v, f.note(name, envName, strconv.Itoa(def), usage))
}

func (f *flagSet) Int64(p *int64, name, envName string, def int64, usage string) {
	v := def
	if s, ok := f.getenv(envName); ok {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			f.errs = append(f.errs, fmt.Errorf("%s=%q: want a whole number", envName, s))
		}
		v = n
	}
	f.fs.Int64Var(p, name, v, f.note(name, envName, strconv.FormatInt(def, 10), usage))
}

func (f *flagSet) Duration(p *time.Duration, name, envName string, def time.Duration, usage string) {
	v := def
	if s, ok := f.getenv(envName); ok {
		d, err := time.ParseDuration(s)
		if err != nil {
			f.errs = append(f.errs, fmt.Errorf("%s=%q: want a duration such as 30s or 5m", envName, s))
		}
		v = d
	}
	f.fs.DurationVar(p, name, v, f.note(name, envName, def.String(), usage))
}

// errHelp: the user asked for --help, which was printed; exit 0.
var errHelp = errors.New("help printed")

// Parse parses args and reports bad flags and variables as usage errors.
// -h, -help and --help print the help on stdout (errHelp), even when a
// variable is bad; a flag it does not know prints the help on stderr.
func (f *flagSet) Parse(args []string) error {
	// Flags may come after arguments too (`rebuild NAME --database-url …`):
	// parse, set the first argument aside, and go on with the rest.
	for {
		if err := f.fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				f.printHelp(f.e.stdout)
				return errHelp
			}
			f.printHelp(f.e.stderr)
			fmt.Fprintln(f.e.stderr)
			return usageError{f.fs.Name() + ": " + err.Error()}
		}
		rest := f.fs.Args()
		if len(rest) == 0 {
			break
		}
		f.args = append(f.args, rest[0])
		args = rest[1:]
	}
	if len(f.errs) > 0 {
		return usageError{errors.Join(f.errs...).Error()}
	}
	return nil
}

// Args are the arguments that are not flags.
func (f *flagSet) Args() []string { return f.args }

// parseOrHelp runs Parse and turns --help into a clean exit.
func parseOrHelp(f *flagSet, args []string) (done bool, err error) {
	err = f.Parse(args)
	if errors.Is(err, errHelp) {
		return true, nil
	}
	return false, err
}

// noVariable marks, in the help, a flag that no LEDGER_* variable sets.
const noVariable = "(flag only: no variable)"

// printHelp writes the command path's description, usage line, every flag
// with its default and variable, and an example.
func (f *flagSet) printHelp(w io.Writer) {
	path := f.fs.Name()
	doc, _ := docFor(path)
	usage := doc.usage
	if usage == "" {
		usage = f.synopsis
	}
	if doc.summary != "" {
		fmt.Fprintf(w, "ledger %s: %s\n\n", path, doc.summary)
	}
	fmt.Fprintf(w, "Usage: ledger %s\n", usage)
	if doc.more != "" {
		fmt.Fprintf(w, "\n%s\n", doc.more)
	}
	flags := f.flagDocs(doc)
	if len(flags) > 0 {
		fmt.Fprintln(w, "\nFlags (the LEDGER_* variable in brackets sets a flag's default; the flag itself wins):")
		width := 0
		for _, d := range flags {
			width = max(width, len(d.head))
		}
		for _, d := range flags {
			fmt.Fprintf(w, "  %-*s  %s\n      %s\n", width, d.head, d.tail, d.usage)
		}
	}
	if doc.example != "" {
		fmt.Fprintf(w, "\nExample:\n  %s\n", strings.ReplaceAll(doc.example, "\n", "\n  "))
	}
}

type flagDoc struct{ head, tail, usage string }

// flagDocs are the flags in the order they were registered, with the
// command table's notes applied; a flag registered on fs directly (no
// variable known) is listed too.
func (f *flagSet) flagDocs(doc commandDoc) []flagDoc {
	var out []flagDoc
	seen := map[string]bool{}
	add := func(v envVar) {
		seen[v.Flag] = true
		if n, ok := doc.flagNotes[v.Flag]; ok {
			if n.usage != "" {
				v.Usage = n.usage
			}
			if n.def != "" {
				v.Default = n.def
			}
		}
		head := "--" + v.Flag
		if fl := f.fs.Lookup(v.Flag); fl != nil {
			if typ, _ := flag.UnquoteUsage(fl); typ != "" {
				head += " " + typ
			}
		}
		tail := noVariable
		if v.Name != "" {
			tail = "[" + v.Name + "]"
		}
		if v.Default != "" {
			tail += "  default " + v.Default
		}
		out = append(out, flagDoc{head: head, tail: tail, usage: v.Usage})
	}
	for _, v := range f.vars {
		add(v)
	}
	f.fs.VisitAll(func(fl *flag.Flag) {
		if !seen[fl.Name] {
			add(envVar{Flag: fl.Name, Default: fl.DefValue, Usage: fl.Usage})
		}
	})
	return out
}

func oneOf(name, v string, allowed ...string) error {
	for _, a := range allowed {
		if v == a {
			return nil
		}
	}
	return usagef("%s %q: want one of %s", name, v, strings.Join(allowed, ", "))
}
