package pglocal

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// setParentDeathSignal asks the kernel to interrupt the child when we die
// without stopping it (a panic, a test timeout, SIGKILL). SIGINT makes
// postgres shut down fast and initdb clean up after itself. Go applies it
// after switching credentials, which would otherwise clear it.
//
// Strictly, the kernel watches the thread that started the child, not the
// process. Go keeps its threads alive, except one whose goroutine exits
// while locked with runtime.LockOSThread: do not call Start from such a
// goroutine.
func setParentDeathSignal(attr *syscall.SysProcAttr) {
	attr.Pdeathsig = syscall.SIGINT
}

// servesDataDir reports whether the live process pid is a postmaster running
// on dataDir, rather than an unrelated process that inherited the pid of a
// crashed server. When /proc cannot tell, it assumes the worst.
func servesDataDir(pid int, dataDir string) bool {
	proc := filepath.Join("/proc", strconv.Itoa(pid))
	if comm, err := os.ReadFile(filepath.Join(proc, "comm")); err == nil &&
		strings.TrimSpace(string(comm)) != "postgres" {
		return false
	}
	// The postmaster's working directory is its data dir.
	cwd, err := os.Readlink(filepath.Join(proc, "cwd"))
	if err != nil {
		return true
	}
	want, err := filepath.EvalSymlinks(dataDir)
	if err != nil {
		return true
	}
	return cwd == want
}

// serverProcesses lists the live postgres processes working in dataDir: a
// postmaster and its children (backends, checkpointer, walwriter...), whose
// working directory is the data dir. Children outlive a postmaster that
// was killed, until they notice; they are no longer its children then, so
// this is how to find them.
func serverProcesses(dataDir string) []int {
	want, err := filepath.EvalSymlinks(dataDir)
	if err != nil {
		return nil
	}
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	var pids []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		proc := filepath.Join("/proc", e.Name())
		comm, err := os.ReadFile(filepath.Join(proc, "comm"))
		if err != nil || strings.TrimSpace(string(comm)) != "postgres" {
			continue
		}
		if cwd, err := os.Readlink(filepath.Join(proc, "cwd")); err == nil && cwd == want {
			pids = append(pids, pid)
		}
	}
	return pids
}
