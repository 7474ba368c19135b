package main

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// TestConfigurationDocumented: every variable any command reads is in
// docs/configuration.md.
func TestConfigurationDocumented(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("..", "..", "docs", "configuration.md"))
	if err != nil {
		t.Fatal(err)
	}
	seen := 0
	for _, args := range [][]string{{"dev"}, {"serve"}, {"migrate"}, {"import"}, {"token", "create"}, {"projections", "status"}, {"keys", "generate"}, {"verify"}, {"witness"}} {
		vars, ok := accepted(t, args)
		if !ok {
			continue // a command without flags of its own
		}
		for _, v := range vars {
			seen++
			if !strings.Contains(string(doc), "`"+v+"`") {
				t.Errorf("%s (read by ledger %s) is not in docs/configuration.md", v, strings.Join(args, " "))
			}
		}
	}
	if seen < 10 {
		t.Fatalf("found only %d variables in the commands' help", seen)
	}
}

// helpDefault is a flag's line in a command's help: its variable and the
// default the help prints (not one in parentheses, which is prose).
var helpDefault = regexp.MustCompile(`\[(LEDGER_[A-Z0-9_]+)\]  default ([^\s(]\S*)`)

// TestConfigurationDefaultsDocumented: where a command's help prints a
// flag's default, docs/configuration.md gives the same default in the
// variable's row (its third column, which may add more in prose).
func TestConfigurationDefaultsDocumented(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("..", "..", "docs", "configuration.md"))
	if err != nil {
		t.Fatal(err)
	}
	rows := map[string][]string{} // variable: its rows' default columns
	for _, line := range strings.Split(string(doc), "\n") {
		cells := strings.Split(line, " | ")
		if len(cells) >= 3 && strings.HasPrefix(cells[0], "| `LEDGER_") {
			v := strings.Trim(cells[0], "| `")
			rows[v] = append(rows[v], cells[2])
		}
	}
	checked := 0
	for _, args := range [][]string{{"dev"}, {"serve"}, {"migrate"}, {"import"}, {"token", "create"}, {"projections", "status"}, {"keys", "generate"}, {"verify"}, {"witness"}} {
		var out, errOut syncBuffer
		if err := run(context.Background(), append(args, "--help"), func(string) string { return "" }, &out, &errOut); err != nil {
			continue // a command without flags of its own
		}
		for _, m := range helpDefault.FindAllStringSubmatch(out.String(), -1) {
			docRows, ok := rows[m[1]]
			if !ok {
				continue // TestConfigurationDocumented reports it
			}
			checked++
			if !slices.ContainsFunc(docRows, func(row string) bool { return strings.Contains(row, "`"+m[2]+"`") }) {
				t.Errorf("ledger %s prints default %s for %s; docs/configuration.md says %q", strings.Join(args, " "), m[2], m[1], docRows)
			}
		}
	}
	if checked < 10 {
		t.Fatalf("checked only %d defaults", checked)
	}
}
