package main

import (
	"errors"
	"flag"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// flagSet is a flag.FlagSet whose defaults come from LEDGER_* variables:
// a flag on the command line beats its variable, which beats the default.
type flagSet struct {
	args []string
	fs   *flag.FlagSet
	e    env
	errs []error
	vars []envVar
}

// envVar documents a flag's variable (docs/configuration.md lists them all;
// a test checks that).
type envVar struct {
	Flag, Name, Default, Usage string
}

func newFlagSet(name, synopsis string, e env) *flagSet {
	f := &flagSet{fs: flag.NewFlagSet(name, flag.ContinueOnError), e: e}
	f.fs.SetOutput(e.stderr)
	f.fs.Usage = func() {
		fmt.Fprintf(e.stderr, "Usage: ledger %s\n\nFlags (each also read from the variable in brackets):\n", synopsis)
		f.fs.PrintDefaults()
	}
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
	v := f.e.getenv(name)
	return v, v != ""
}

func (f *flagSet) note(flagName, envName, def, usage string) string {
	f.vars = append(f.vars, envVar{Flag: flagName, Name: envName, Default: def, Usage: usage})
	if envName == "" {
		return usage
	}
	return usage + " [" + envName + "]"
}

func (f *flagSet) String(p *string, name, envName, def, usage string) {
	f.fs.StringVar(p, name, f.lookup(envName, def), f.note(name, envName, def, usage))
}

func (f *flagSet) Bool(p *bool, name, envName string, def bool, usage string) {
	v := def
	if s, ok := f.getenv(envName); ok && envName != "" {
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
	if s, ok := f.getenv(envName); ok && envName != "" {
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
	if s, ok := f.getenv(envName); ok && envName != "" {
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
	if s, ok := f.getenv(envName); ok && envName != "" {
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

// Parse parses args and reports bad variables and flags as usage errors.
func (f *flagSet) Parse(args []string) error {
	if len(f.errs) > 0 {
		return usageError{errors.Join(f.errs...).Error()}
	}
	// Flags may come after arguments too (`rebuild NAME --database-url …`):
	// parse, set the first argument aside, and go on with the rest.
	for {
		if err := f.fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return errHelp
			}
			return usageError{err.Error()}
		}
		rest := f.fs.Args()
		if len(rest) == 0 {
			return nil
		}
		f.args = append(f.args, rest[0])
		args = rest[1:]
	}
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

func oneOf(name, v string, allowed ...string) error {
	for _, a := range allowed {
		if v == a {
			return nil
		}
	}
	return usagef("%s %q: want one of %s", name, v, strings.Join(allowed, ", "))
}
