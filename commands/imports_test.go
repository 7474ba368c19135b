package commands_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestImportsPointInward checks STYLE.md's rule 1: commands depends on the
// domain and the event store port, and on nothing else of ours.
func TestImportsPointInward(t *testing.T) {
	t.Parallel()
	out, err := exec.Command("go", "list", "-deps", "-f", "{{.ImportPath}}", ".").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	allowed := map[string]bool{"promiseledger/commands": true, "promiseledger/domain": true, "promiseledger/eventstore": true}
	for _, dep := range strings.Fields(string(out)) {
		if (dep == "promiseledger" || strings.HasPrefix(dep, "promiseledger/")) && !allowed[dep] {
			t.Errorf("commands depends on %s", dep)
		}
	}
}
