//go:build unix && !linux

package pglocal

import "syscall"

// setParentDeathSignal is a no-op: only Linux can signal a child when its
// parent dies. A server orphaned by a crash keeps running; the next Start on
// its data dir reports it.
func setParentDeathSignal(*syscall.SysProcAttr) {}

// servesDataDir assumes a live pid from postmaster.pid is still the server:
// without /proc there is no cheap way to tell.
func servesDataDir(int, string) bool { return true }

// serverProcesses finds nothing without /proc: the children of a killed
// postmaster exit on their own once they notice, and a restart that
// finds them still holding shared memory fails and is tried again.
func serverProcesses(string) []int { return nil }
