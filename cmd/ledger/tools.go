package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/google/uuid"

	"promiseledger/api"
	"promiseledger/projections"
)

func runToken(ctx context.Context, e env, args []string) error {
	// run checked the subcommand; this guards a direct call.
	if len(args) == 0 || (args[0] != "create" && args[0] != "list" && args[0] != "revoke") {
		return usagef("token: want create, list or revoke")
	}
	var c common
	var name, role, person string
	// Usage lines and examples are in main.go's command table.
	f := newFlagSet("token "+args[0], "token "+args[0]+" [flags]", e)
	if args[0] == "create" {
		// A token's name, role and person are one token's, never a
		// deployment's: no variables.
		f.String(&name, "name", "", "", "what the token is for (shown in token list); required")
		f.String(&role, "role", "", "", "admin, officer, council or deputy; required")
		f.String(&person, "person", "", "", "the person id recorded as the actor of this token's writes; required for an officer")
	}
	c.register(f)
	svc, err := openTool(ctx, e, &c, f, args[1:], func() error {
		if args[0] == "revoke" {
			if len(f.Args()) != 1 {
				return usagef("token revoke: want exactly one token id")
			}
			if _, err := uuid.Parse(f.Args()[0]); err != nil {
				return usagef("token revoke: %q is not a token id", f.Args()[0])
			}
			return nil
		}
		return noArgs(f)
	})
	if svc == nil {
		return err
	}
	defer svc.close()
	switch args[0] {
	case "create":
		secret, tok, err := api.CreateToken(ctx, svc.db, api.TokenSpec{Name: name, Role: api.Role(role), PersonID: person})
		if err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "token %s (%s, role %s)\n%s\n", tok.ID, tok.Name, tok.Role, secret)
		fmt.Fprintln(e.stderr, "The secret is shown this once; only its hash is stored.")
		return nil
	case "list":
		toks, err := api.ListTokens(ctx, svc.db)
		if err != nil {
			return err
		}
		w := tabwriter.NewWriter(e.stdout, 2, 4, 2, ' ', 0)
		fmt.Fprintln(w, "ID\tNAME\tROLE\tPERSON\tCREATED\tREVOKED")
		for _, t := range toks {
			revoked := ""
			if t.RevokedAt != nil {
				revoked = t.RevokedAt.Format(time.RFC3339)
			}
			fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\n", t.ID, t.Name, t.Role, t.PersonID, t.CreatedAt.Format(time.RFC3339), revoked)
		}
		return w.Flush()
	case "revoke":
		if len(f.Args()) != 1 {
			return usagef("token revoke: want exactly one token id")
		}
		id, err := uuid.Parse(f.Args()[0])
		if err != nil {
			return usagef("token revoke: %q is not a token id", f.Args()[0])
		}
		if err := api.RevokeToken(ctx, svc.db, id); err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "token %s revoked\n", id)
		return nil
	}
	return usagef("token: unknown subcommand %q (want create, list or revoke)", args[0])
}

func runProjections(ctx context.Context, e env, args []string) error {
	// run checked the subcommand; this guards a direct call.
	if len(args) == 0 || (args[0] != "status" && args[0] != "rebuild" && args[0] != "skip") {
		return usagef("projections: want status, rebuild NAME or skip NAME --event ID --reason TEXT --by WHO")
	}
	var c common
	var asJSON bool
	var event, reason, by string
	// Usage lines and examples are in main.go's command table.
	f := newFlagSet("projections "+args[0], "projections "+args[0]+" [flags]", e)
	switch args[0] {
	case "status":
		// How to print is one run's choice, not a deployment's: no variable.
		f.Bool(&asJSON, "json", "", false, "print the status as JSON")
	case "skip":
		// One decision about one event: no variables.
		f.String(&event, "event", "", "", "the id of the event the projector stopped on (projections status names it); required")
		f.String(&reason, "reason", "", "", "why the read model may leave this event out; kept with the decision for good; required")
		f.String(&by, "by", "", "", "who decides (a name or role the audit can trace); required")
	}
	c.register(f)
	svc, err := openTool(ctx, e, &c, f, args[1:], func() error {
		switch args[0] {
		case "status":
			return noArgs(f)
		case "skip":
			if len(f.Args()) != 1 {
				return usagef("projections skip: want one projector name (see projections status)")
			}
			if _, err := uuid.Parse(event); err != nil {
				return usagef("projections skip: --event %q is not an event id", event)
			}
		case "rebuild":
			_, err := rebuildTargets(f.Args())
			return err
		}
		return nil
	})
	if svc == nil {
		return err
	}
	defer svc.close()
	switch args[0] {
	case "status":
		st, err := projections.Statuses(ctx, svc.db, svc.store, time.Now())
		if err != nil {
			return err
		}
		if asJSON {
			printJSON(e, st)
			return nil
		}
		w := tabwriter.NewWriter(e.stdout, 2, 4, 2, ' ', 0)
		fmt.Fprintln(w, "PROJECTOR\tGENERATION\tCHECKPOINT\tEVENTS\tLAG (EVENTS)\tLAG (S)\tSTOPPED\tSKIPPED\tFAILED ON EVENT\tTYPE\tPOSITION\tLAST ERROR")
		for _, s := range st {
			fmt.Fprintf(w, "%s\t%d\t%s\t%d\t%d\t%.1f\t%v\t%d\t%s\t%s\t%s\t%s\n", s.Name, s.ActiveGeneration, s.Checkpoint, s.EventsTotal,
				s.LagEvents, s.LagSeconds, s.Stopped, s.SkippedEvents, dash(s.PoisonEventID), dash(s.PoisonType), dash(s.PoisonPosition), s.LastError)
		}
		return w.Flush()
	case "skip":
		if len(f.Args()) != 1 {
			return usagef("projections skip: want one projector name (see projections status)")
		}
		id, err := uuid.Parse(event)
		if err != nil {
			return usagef("projections skip: --event %q is not an event id", event)
		}
		d, err := projections.Skip(ctx, svc.db, f.Args()[0], id, reason, by)
		if err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "%s passes over event %s (%s at %s), decided by %s at %s: %s\n"+
			"Restart the server (or ledger dev) to resume the projector.\n",
			d.Projector, d.EventID, d.EventType, d.Position, d.DecidedBy, d.DecidedAt.Format(time.RFC3339), d.Reason)
		return nil
	case "rebuild":
		ps, err := rebuildTargets(f.Args())
		if err != nil {
			return err
		}
		return rebuildAll(ctx, e, svc, ps)
	}
	return usagef("projections: unknown subcommand %q (want status, rebuild or skip)", args[0])
}

// noArgs refuses arguments a command does not take.
func noArgs(f *flagSet) error {
	if len(f.Args()) > 0 {
		return usagef("%s takes no arguments, got %q", f.fs.Name(), f.Args())
	}
	return nil
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func printJSON(e env, v any) {
	enc := json.NewEncoder(e.stdout)
	enc.SetIndent("", "  ")
	enc.Encode(v) //nolint:errcheck // stdout
}

// openTool parses an operator command's flags, checks its arguments and
// connects to the database without migrating: a wrong command line is
// refused before anything is touched. A nil services means the command is
// over: err says why, or is nil after --help.
func openTool(ctx context.Context, e env, c *common, f *flagSet, args []string, checkArgs func() error) (*services, error) {
	if done, err := parseOrHelp(f, args); done || err != nil {
		return nil, err
	}
	if err := checkArgs(); err != nil {
		return nil, err
	}
	if err := c.validate(true); err != nil {
		return nil, err
	}
	return openServices(ctx, *c, false, c.logger(e))
}

// rebuildTargets are the projectors `projections rebuild` names: one or
// more by name, or "all" for every read model (projections.All). The
// transparency log is left out of all: its tables are append-only, so a
// rebuild of it keeps the old generation's copy of every leaf and hash for
// good; it is rebuilt only when named.
func rebuildTargets(args []string) ([]projections.Projector, error) {
	if len(args) == 0 {
		return nil, usagef("projections rebuild: want one or more projector names, or all (see projections status)")
	}
	if len(args) == 1 && args[0] == "all" {
		return projections.All(), nil
	}
	var ps []projections.Projector
	seen := map[string]bool{}
	for _, name := range args {
		p, ok := projectorByName(name)
		if !ok {
			return nil, usagef("projections rebuild: no projector named %q (want names from projections status, or all alone)", name)
		}
		if !seen[name] {
			seen[name] = true
			ps = append(ps, p)
		}
	}
	return ps, nil
}

// rebuildAll rebuilds ps one after another, each into its own new
// generation that becomes active as soon as it is complete. One after
// another rather than at once: on the 2-core machine of
// docs/performance.md the four read models at a million events took
// 79.7 s in turn and 86.4 s at once (and at once holds every replay's
// state together). One that fails leaves its active generation as it was
// and the next ones still run; the error lists every failure.
func rebuildAll(ctx context.Context, e env, svc *services, ps []projections.Projector) error {
	start := time.Now()
	var errs []error
	for _, p := range ps {
		if err := ctx.Err(); err != nil {
			errs = append(errs, err) // interrupted: the next ones are not started
			break
		}
		began := time.Now()
		gen, err := projections.Rebuild(ctx, svc.db, svc.store, p)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", p.Name(), err))
			if len(ps) > 1 { // alone, the error says it (exit status 1)
				fmt.Fprintf(e.stdout, "%s not rebuilt: %v\n", p.Name(), err)
			}
			continue
		}
		fmt.Fprintf(e.stdout, "%s rebuilt into generation %d in %s; it is now active\n", p.Name(), gen, time.Since(began).Round(time.Millisecond))
	}
	if len(ps) > 1 && len(errs) == 0 {
		fmt.Fprintf(e.stdout, "%d read models rebuilt in %s\n", len(ps), time.Since(start).Round(time.Millisecond))
	}
	return errors.Join(errs...)
}
