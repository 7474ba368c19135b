//go:build unix

package pglocal

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"syscall"
)

// account is the OS user postgres runs as when we are root. A nil *account
// means "as ourselves".
type account struct {
	name     string
	uid, gid uint32
}

func (a *account) String() string {
	return fmt.Sprintf("%s (uid %d)", a.name, a.uid)
}

// fallbackUser receives root-owned data dirs. It exists on every Unix and
// owns nothing else of value, which suits a throwaway server.
const fallbackUser = "nobody"

// chooseAccount decides who runs postgres on dataDir, which must exist.
//
// PostgreSQL refuses to run as root and insists that the data dir belongs to
// the user running it. So when we are root, a data dir owned by an
// unprivileged user (typically a cluster from an earlier run) is run as that
// user, and a root-owned empty one is handed to nobody. A root-owned cluster
// is an error: chowning someone's data behind their back is not ours to do.
func chooseAccount(dataDir string, initialized bool) (*account, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	owner, err := statOwner(dataDir)
	if err != nil {
		return nil, err
	}
	if owner.uid != 0 {
		return owner, nil
	}
	if initialized {
		return nil, fmt.Errorf("pglocal: data dir %s holds a cluster owned by root, but PostgreSQL refuses to run as root; hand it to an unprivileged user (chown -R %s %s) or use another data dir",
			dataDir, fallbackUser, dataDir)
	}
	acct, err := lookupAccount(fallbackUser)
	if err != nil {
		return nil, err
	}
	if err := chownTo(acct, dataDir); err != nil {
		return nil, err
	}
	return acct, nil
}

func statOwner(path string) (*account, error) {
	info, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("pglocal: %w", err)
	}
	st, ok := info.Sys().(*syscall.Stat_t)
	if !ok {
		return nil, fmt.Errorf("pglocal: cannot read the owner of %s", path)
	}
	name := strconv.FormatUint(uint64(st.Uid), 10)
	if u, err := user.LookupId(name); err == nil {
		name = u.Username
	}
	return &account{name: name, uid: st.Uid, gid: st.Gid}, nil
}

func lookupAccount(name string) (*account, error) {
	u, err := user.Lookup(name)
	if err != nil {
		return nil, fmt.Errorf("pglocal: running as root, PostgreSQL must run as an unprivileged user, but looking up %q failed: %w; run as a normal user instead", name, err)
	}
	// ParseInt, not ParseUint: macOS reports nobody as uid -2.
	uid, err := strconv.ParseInt(u.Uid, 10, 64)
	if err != nil {
		return nil, fmt.Errorf("pglocal: user %s: uid %q: %w", name, u.Uid, err)
	}
	gid, err := strconv.ParseInt(u.Gid, 10, 64)
	if err != nil {
		return nil, fmt.Errorf("pglocal: user %s: gid %q: %w", name, u.Gid, err)
	}
	if uid == 0 {
		return nil, fmt.Errorf("pglocal: user %s has uid 0; PostgreSQL needs an unprivileged user", name)
	}
	return &account{name: name, uid: uint32(uid), gid: uint32(gid)}, nil
}

func chownTo(acct *account, path string) error {
	if acct == nil {
		return nil
	}
	if err := os.Chown(path, int(acct.uid), int(acct.gid)); err != nil {
		return fmt.Errorf("pglocal: hand %s to %v: %w", path, acct, err)
	}
	return nil
}

// serverCanReach reports whether the user postgres would run as on a new
// data dir can search every directory from / down to dir. Only root hands
// the server to another user; anyone else runs it as themselves.
func serverCanReach(dir string) (bool, error) {
	if os.Geteuid() != 0 {
		return true, nil
	}
	acct, err := lookupAccount(fallbackUser)
	if err != nil {
		return false, err
	}
	return checkReachable(acct, dir) == nil, nil
}

// checkReachable fails when acct cannot search every directory from / down
// to dir: postgres, running as acct, opens the data dir and socket dir by
// path, and would otherwise fail with a less helpful message in its log.
func checkReachable(acct *account, dir string) error {
	if acct == nil {
		return nil
	}
	real, err := filepath.EvalSymlinks(dir)
	if err != nil {
		return fmt.Errorf("pglocal: %w", err)
	}
	for d := real; ; d = filepath.Dir(d) {
		info, err := os.Stat(d)
		if err != nil {
			return fmt.Errorf("pglocal: %w", err)
		}
		if !acct.canSearch(info) {
			return fmt.Errorf("pglocal: running as root, so postgres runs as %v, which cannot enter %s (%v): use a directory it can reach (e.g. under /tmp) or `chmod o+x %s`",
				acct, d, info.Mode().Perm(), d)
		}
		if d == filepath.Dir(d) {
			return nil
		}
	}
}

// canSearch applies the classic permission bits; ACLs are rare enough on the
// directories involved to ignore.
func (a *account) canSearch(info fs.FileInfo) bool {
	st, ok := info.Sys().(*syscall.Stat_t)
	if !ok {
		return true // let postgres be the judge
	}
	perm := info.Mode().Perm()
	switch {
	case st.Uid == a.uid:
		return perm&0o100 != 0
	case st.Gid == a.gid:
		return perm&0o010 != 0
	default:
		return perm&0o001 != 0
	}
}

// sysProcAttr makes initdb and postgres run as acct, in their own process
// group: a Ctrl-C in the terminal then reaches only us, and we shut the
// server down cleanly instead of it dying mid-flight.
func sysProcAttr(acct *account) *syscall.SysProcAttr {
	attr := &syscall.SysProcAttr{Setpgid: true}
	if acct != nil {
		// Empty Groups drops root's supplementary groups.
		attr.Credential = &syscall.Credential{Uid: acct.uid, Gid: acct.gid, Groups: []uint32{}}
	}
	setParentDeathSignal(attr)
	return attr
}

// killGroup kills the postmaster and its backends at once, so that no
// orphaned backend keeps the data dir busy for the next start.
func killGroup(pid int) error {
	err := syscall.Kill(-pid, syscall.SIGKILL)
	if errors.Is(err, syscall.ESRCH) {
		return nil
	}
	return err
}

// processAlive reports whether pid exists; EPERM means it does, but belongs
// to someone else.
func processAlive(pid int) bool {
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}
