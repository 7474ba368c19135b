package demo_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestImportsPointInward checks STYLE.md's rule 1: the demo is written
// through the command handlers, so it depends on them and the domain, and
// on no adapter.
func TestImportsPointInward(t *testing.T) {
	t.Parallel()
	out, err := exec.Command("go", "list", "-deps", "-f", "{{.ImportPath}}", ".").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	allowed := map[string]bool{
		"promiseledger/commands/demo": true, "promiseledger/commands": true,
		"promiseledger/domain": true, "promiseledger/eventstore": true,
	}
	for _, dep := range strings.Fields(string(out)) {
		if strings.HasPrefix(dep, "promiseledger/") && !allowed[dep] {
			t.Errorf("demo depends on %s", dep)
		}
	}
}
