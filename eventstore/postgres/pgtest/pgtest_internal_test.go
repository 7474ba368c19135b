package pgtest

import (
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"runtime"
	"strings"
	"testing"
)

// fatalRecorder is a testing.TB whose Fatal records the message and ends
// the goroutine, as the real one does.
type fatalRecorder struct {
	testing.TB
	msg string
}

func (r *fatalRecorder) Helper() {}

func (r *fatalRecorder) Fatal(args ...any) {
	r.msg = fmt.Sprint(args...)
	runtime.Goexit()
}

func TestNewURLWithoutMain(t *testing.T) {
	rec := &fatalRecorder{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		newURL(rec, nil)
		t.Error("newURL returned without a server")
	}()
	<-done
	if !strings.Contains(rec.msg, "call pgtest.Main from TestMain") {
		t.Errorf("message does not say what to do: %q", rec.msg)
	}
}

func TestDatabaseName(t *testing.T) {
	valid := regexp.MustCompile(`^t_[a-z0-9_]+_[0-9a-f]{12}$`)
	seen := map[string]bool{}
	for _, testName := range []string{"TestX", "TestX", strings.Repeat("TestVeryLong/sub test #1", 10), "Test/ünïcode"} {
		name := databaseName(testName)
		if len(name) > 63 || !valid.MatchString(name) {
			t.Errorf("databaseName(%q) = %q: not a plain identifier of at most 63 bytes", testName, name)
		}
		if seen[name] {
			t.Errorf("databaseName(%q) = %q twice", testName, name)
		}
		seen[name] = true
	}
}

// TestExternalServer reruns TestFreshDatabases in a child test binary
// pointed at this binary's server through LEDGER_TEST_DATABASE_URL: the
// child must use that server rather than start its own, and drop the
// databases it created there.
func TestExternalServer(t *testing.T) {
	srv := active.Load()
	if srv == nil {
		t.Fatal("no server: TestMain did not run pgtest.Main")
	}
	countDatabases := func() int {
		var n int
		if err := srv.admin.QueryRowContext(t.Context(), `SELECT count(*) FROM pg_database`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	before := countDatabases()

	cmd := exec.CommandContext(t.Context(), os.Args[0], "-test.run=^TestFreshDatabases$", "-test.v", "-test.count=1")
	cmd.Env = append(os.Environ(), EnvURL+"="+srv.base.String())
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child test binary: %v\n%s", err, out)
	}
	if want := "on port " + srv.base.Port(); strings.Count(string(out), want) != 2 {
		t.Errorf("child did not use the external server (want %q twice in its output):\n%s", want, out)
	}
	if after := countDatabases(); after != before {
		t.Errorf("child left %d databases behind", after-before)
	}
}
