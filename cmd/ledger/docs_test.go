package main

import (
	"os"
	"path/filepath"
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
