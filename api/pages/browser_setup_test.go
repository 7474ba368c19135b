package pages_test

// Setup of the browser test: the tools it needs (Chromium, axe-core), the
// browser, and the folder the screenshots go to. The server is newEnv's:
// the demo, served as `ledger serve` mounts the API and the pages.

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// axeVersion is the axe-core release the test runs; .ci/run installs the
// same one (AXE_VERSION there).
const axeVersion = "4.11.1"

// installHint is the one command that installs what the browser test needs.
const installHint = "install them with: .ci/run (or: apt-get install -y chromium && npm install --prefix " +
	"\"${XDG_CACHE_HOME:-$HOME/.cache}/promiseledger/axe\" --save-exact axe-core@" + axeVersion + ")"

// chromiumPath finds Debian's chromium (or the binary named by
// LEDGER_CHROMIUM). Missing, the test fails: it is never skipped.
func chromiumPath(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("LEDGER_CHROMIUM"); p != "" {
		if _, err := exec.LookPath(p); err != nil {
			t.Fatalf("LEDGER_CHROMIUM=%s: %v; %s", p, err, installHint)
		}
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Fatalf("the browser test needs Chromium, which is not installed; %s", installHint)
	return ""
}

// axeDir is where axe-core is installed: a cache outside the repository.
func axeDir() string {
	if d := os.Getenv("LEDGER_AXE_DIR"); d != "" {
		return d
	}
	base := os.Getenv("XDG_CACHE_HOME")
	if base == "" {
		if home, err := os.UserHomeDir(); err == nil {
			base = filepath.Join(home, ".cache")
		} else {
			base = os.TempDir()
		}
	}
	return filepath.Join(base, "promiseledger", "axe")
}

// axeSource returns axe.min.js, installing the pinned axe-core with npm
// when it is missing (as .ci/run does). Failing that, the test fails with
// the command that installs it.
func axeSource(t *testing.T) string {
	t.Helper()
	dir := axeDir()
	pkg := filepath.Join(dir, "node_modules", "axe-core")
	if installedAxeVersion(pkg) != axeVersion {
		npm, err := exec.LookPath("npm")
		if err != nil {
			t.Fatalf("the browser test needs axe-core@%s in %s and npm to install it, which is missing; %s", axeVersion, dir, installHint)
		}
		t.Logf("installing axe-core@%s into %s", axeVersion, dir)
		out, err := exec.Command(npm, "install", "--prefix", dir, "--save-exact", "--no-audit", "--no-fund", "--silent", "axe-core@"+axeVersion).CombinedOutput()
		if err != nil {
			t.Fatalf("npm install axe-core@%s into %s: %v\n%s\n%s", axeVersion, dir, err, out, installHint)
		}
		if v := installedAxeVersion(pkg); v != axeVersion {
			t.Fatalf("after npm install, %s holds axe-core %q, want %s; %s", pkg, v, axeVersion, installHint)
		}
	}
	src, err := os.ReadFile(filepath.Join(pkg, "axe.min.js"))
	if err != nil {
		t.Fatalf("read axe-core: %v; %s", err, installHint)
	}
	return string(src)
}

func installedAxeVersion(pkg string) string {
	b, err := os.ReadFile(filepath.Join(pkg, "package.json"))
	if err != nil {
		return ""
	}
	var p struct{ Version string }
	if json.Unmarshal(b, &p) != nil {
		return ""
	}
	return p.Version
}

// screenshotDir is named in the test log: $LEDGER_SCREENSHOT_DIR, or a new
// folder under /tmp/promiseledger-screenshots (outside the repository, and
// kept after the test so that people can look at them).
func screenshotDir(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("LEDGER_SCREENSHOT_DIR")
	if dir == "" {
		dir = filepath.Join(os.TempDir(), "promiseledger-screenshots", time.Now().UTC().Format("20060102-150405"))
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshots: %s", dir)
	return dir
}

// newBrowser starts one headless Chromium for the whole test and returns
// a context for its first tab.
//
// Chromium now and then dies while starting on a loaded machine (a CI run
// saw "chrome failed to start" once among several browser tests, each
// with its own profile): a start is tried three times, each with a fresh
// profile, before the test fails.
func newBrowser(t *testing.T) context.Context {
	t.Helper()
	var errs []error
	for range 3 {
		ctx, err := startBrowser(t)
		if err == nil {
			return ctx
		}
		errs = append(errs, err)
		t.Logf("Chromium did not start, trying again: %v", err)
	}
	t.Fatalf("start Chromium (%s): %v; %s", chromiumPath(t), errors.Join(errs...), installHint)
	return nil
}

// startBrowser is one attempt of newBrowser.
func startBrowser(t *testing.T) (context.Context, error) {
	exe := chromiumPath(t)
	profile, err := os.MkdirTemp("", "promiseledger-chromium-")
	if err != nil {
		return nil, err
	}
	t.Cleanup(func() { os.RemoveAll(profile) })
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(exe),
		chromedp.UserDataDir(profile),
		chromedp.WindowSize(1280, 900),
		chromedp.Flag("headless", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("no-default-browser-check", true),
		// A closed network refuses Chromium's own background connections;
		// none of them is needed to render pages.
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.Flag("disable-default-apps", true),
		chromedp.Flag("mute-audio", true),
		chromedp.Flag("hide-scrollbars", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("lang", "en-US"),
	}
	if os.Geteuid() == 0 {
		opts = append(opts, chromedp.NoSandbox) // Chromium refuses to run as root with its sandbox
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx, chromedp.WithErrorf(t.Logf))
	if err := chromedp.Do(ctx); err != nil { // starts the browser
		cancel()
		cancelAlloc()
		return nil, err
	}
	t.Cleanup(func() { cancel(); cancelAlloc() })
	return ctx, nil
}
