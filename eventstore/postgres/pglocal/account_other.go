//go:build !unix

package pglocal

import (
	"errors"
	"os"
	"runtime"
	"syscall"
)

// Elsewhere than Unix, Start fails early; these stubs only keep the package
// (and every test package importing pgtest) compiling.

var errUnsupported = errors.New("pglocal: a private PostgreSQL server is not supported on " + runtime.GOOS +
	"; set LEDGER_TEST_DATABASE_URL (tests) / LEDGER_DATABASE_URL to an existing server")

type account struct{}

func chooseAccount(string, bool) (*account, error) { return nil, errUnsupported }
func chownTo(*account, string) error               { return nil }
func checkReachable(*account, string) error        { return nil }
func serverCanReach(string) (bool, error)          { return true, nil }
func sysProcAttr(*account) *syscall.SysProcAttr    { return nil }
func processAlive(int) bool                        { return false }
func servesDataDir(int, string) bool               { return false }
func serverProcesses(string) []int                 { return nil }
func killGroup(pid int) error {
	p, err := os.FindProcess(pid)
	if err != nil {
		return err
	}
	return p.Kill()
}
