package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"promiseledger/commands"
	"promiseledger/commands/batch"
	"promiseledger/eventstore"
	"promiseledger/eventstore/postgres"
)

func runImport(ctx context.Context, e env, args []string) error {
	var c common
	var file, format, actor string
	var dryRun, asJSON bool
	f := newFlagSet("import", "import --file FILE [--dry-run] [flags]", e)
	// The file, its format, a dry run and the report's form belong to one
	// run, not to a deployment: flags only, so a variable left set can never
	// turn a later import into a dry run or read another file.
	f.String(&file, "file", "", "", "the JSON or CSV file to import (see docs/import.md); required")
	f.String(&format, "format", "", "", "json or csv (default: from the file's extension)")
	f.Bool(&dryRun, "dry-run", "", false, "check every row and report, but write nothing")
	f.Bool(&asJSON, "json", "", false, "print the report as JSON")
	f.String(&actor, "actor", "LEDGER_IMPORT_ACTOR", "import", "the person id recorded as the actor of the imported events")
	c.register(f)
	if done, err := parseOrHelp(f, args); done || err != nil {
		return err
	}
	if file == "" {
		return usagef("import: --file is required")
	}
	if len(f.Args()) > 0 {
		return usagef("import: one file per run (--file); unexpected %q", f.Args())
	}
	if format == "" {
		format = strings.TrimPrefix(strings.ToLower(filepath.Ext(file)), ".")
	}
	if err := oneOf("--format", format, "json", "csv"); err != nil {
		return err
	}
	if err := c.validate(true); err != nil {
		return err
	}
	fh, err := os.Open(file)
	if err != nil {
		return err
	}
	parsed, err := batch.ParseFile(fh, format)
	fh.Close()
	if err != nil {
		return err
	}
	svc, err := openServices(ctx, c, false, c.logger(e))
	if err != nil {
		return err
	}
	defer svc.close()
	pg, ok := svc.store.(*postgres.Store)
	if !ok {
		return fmt.Errorf("import writes all rows in one transaction, which needs the postgres event store")
	}
	overlay := batch.New(svc.store, time.Now)
	h, err := commands.New(commands.Deps{Store: overlay})
	if err != nil {
		return err
	}
	accepted, rejected := parsed.Run(ctx, h, commands.Actor{ID: actor, Role: "admin"})
	pending := overlay.Pending()
	report := importReport{File: file, Rows: accepted + rowsOf(rejected), Accepted: accepted, Rejected: rejected, Events: batch.Events(pending), DryRun: dryRun}
	if len(rejected) == 0 && !dryRun && report.Events > 0 {
		appends := make([]postgres.StreamAppend, len(pending))
		for i, p := range pending {
			appends[i] = postgres.StreamAppend{Stream: p.Stream, Expected: eventstore.Exactly(p.Expected), Events: p.Events}
		}
		if err := pg.AppendAll(ctx, appends); err != nil {
			return fmt.Errorf("import: nothing was written: %w", err)
		}
		report.Written = true
	}
	report.print(e, asJSON)
	if len(rejected) > 0 {
		return fmt.Errorf("import: %d problem(s) in %d row(s); nothing was written", len(rejected), rowsOf(rejected))
	}
	return nil
}

type importReport struct {
	File     string            `json:"file"`
	Rows     int               `json:"rows"`
	Accepted int               `json:"accepted"`
	Rejected []batch.Rejection `json:"rejected"`
	Events   int               `json:"events"`
	DryRun   bool              `json:"dry_run"`
	Written  bool              `json:"written"`
}

func rowsOf(rs []batch.Rejection) int {
	seen := map[string]bool{}
	for _, r := range rs {
		seen[r.Row] = true
	}
	return len(seen)
}

func (r importReport) print(e env, asJSON bool) {
	if asJSON {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		enc.Encode(r) //nolint:errcheck
		return
	}
	for _, x := range r.Rejected {
		field := ""
		if x.Field != "" {
			field = x.Field + ": "
		}
		fmt.Fprintf(e.stdout, "rejected %s: %s%s\n", x.Row, field, x.Problem)
	}
	switch {
	case len(r.Rejected) > 0:
		fmt.Fprintf(e.stdout, "%d of %d rows accepted, %d rejected: nothing was written\n", r.Accepted, r.Rows, rowsOf(r.Rejected))
	case r.DryRun:
		fmt.Fprintf(e.stdout, "dry run: all %d rows accepted; an import would write %d events\n", r.Rows, r.Events)
	case r.Events == 0:
		fmt.Fprintf(e.stdout, "all %d rows are already in the ledger: nothing to write\n", r.Rows)
	default:
		fmt.Fprintf(e.stdout, "imported %d rows: %d events written in one transaction\n", r.Rows, r.Events)
	}
}
