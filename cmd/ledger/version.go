package main

import (
	"context"
	"encoding/json"
	"fmt"
	"runtime"
	"runtime/debug"
	"strings"
)

// buildTime is set at build time with -ldflags "-X main.buildTime=...":
// Go records the commit's time but not the build's.
var buildTime string

// buildInfo is what `ledger version` says about the binary.
type buildInfo struct {
	Version       string `json:"version"`               // -X main.version, else derived below
	Module        string `json:"module"`                // the main module's path
	ModuleVersion string `json:"module_version"`        // "(devel)" when built from a checkout
	Revision      string `json:"revision,omitempty"`    // VCS revision, when the build recorded it
	Dirty         *bool  `json:"dirty,omitempty"`       // the checkout had uncommitted changes
	CommitTime    string `json:"commit_time,omitempty"` // the revision's commit time
	BuildTime     string `json:"build_time,omitempty"`  // -X main.buildTime
	GoVersion     string `json:"go_version"`
	Platform      string `json:"platform"`
	VCS           string `json:"vcs,omitempty"`
}

func readBuildInfo() *debug.BuildInfo {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return nil
	}
	return bi
}

// describeBuild turns the linker's stamp and the Go runtime's build
// information (nil when the binary has none) into a buildInfo.
func describeBuild(stamped, stampedTime string, bi *debug.BuildInfo) buildInfo {
	b := buildInfo{GoVersion: runtime.Version(), Platform: runtime.GOOS + "/" + runtime.GOARCH, BuildTime: stampedTime}
	if bi != nil {
		b.Module, b.ModuleVersion = bi.Main.Path, bi.Main.Version
		if bi.GoVersion != "" {
			b.GoVersion = bi.GoVersion
		}
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs":
				b.VCS = s.Value
			case "vcs.revision":
				b.Revision = s.Value
			case "vcs.time":
				b.CommitTime = s.Value
			case "vcs.modified":
				dirty := s.Value == "true"
				b.Dirty = &dirty
			}
		}
	}
	b.Version = effectiveVersion(stamped, bi)
	return b
}

// effectiveVersion is the version the server reports (/healthz, the API
// description): the linker's stamp when there is one, else the module's
// version, else "devel-" and the revision, else "dev".
func effectiveVersion(stamped string, bi *debug.BuildInfo) string {
	if stamped != "" && stamped != "dev" {
		return stamped
	}
	if bi == nil {
		return "dev"
	}
	if v := bi.Main.Version; v != "" && v != "(devel)" {
		return v
	}
	var rev string
	dirty := false
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			dirty = s.Value == "true"
		}
	}
	if rev == "" {
		return "dev"
	}
	if len(rev) > 12 {
		rev = rev[:12]
	}
	if dirty {
		rev += "-dirty"
	}
	return "devel-" + rev
}

// text is the human form of b: one fact a line, and a plain word where the
// build did not record a fact.
func (b buildInfo) text() string {
	var s strings.Builder
	fmt.Fprintf(&s, "ledger %s\n", b.Version)
	module := b.Module
	if module == "" {
		module = "unknown (the binary carries no build information)"
	} else if b.ModuleVersion != "" {
		module += " " + b.ModuleVersion
	}
	fmt.Fprintf(&s, "module:      %s\n", module)
	switch {
	case b.Revision == "":
		fmt.Fprintln(&s, "revision:    unknown (built without VCS stamping: go run, go test, -buildvcs=false or no checkout)")
	case b.Dirty != nil && *b.Dirty:
		fmt.Fprintf(&s, "revision:    %s (dirty: built with uncommitted changes)\n", b.Revision)
	case b.Dirty != nil:
		fmt.Fprintf(&s, "revision:    %s (clean)\n", b.Revision)
	default:
		fmt.Fprintf(&s, "revision:    %s\n", b.Revision)
	}
	if b.CommitTime != "" {
		fmt.Fprintf(&s, "commit time: %s\n", b.CommitTime)
	}
	if b.BuildTime != "" {
		fmt.Fprintf(&s, "build time:  %s\n", b.BuildTime)
	} else {
		fmt.Fprintln(&s, "build time:  unknown (not stamped: -ldflags \"-X main.buildTime=...\")")
	}
	fmt.Fprintf(&s, "go:          %s %s\n", b.GoVersion, b.Platform)
	return s.String()
}

func runVersion(_ context.Context, e env, args []string) error {
	var asJSON bool
	f := newFlagSet("version", "version [--json]", e)
	f.Bool(&asJSON, "json", "", false, "print the build information as JSON")
	if done, err := parseOrHelp(f, args); done || err != nil {
		return err
	}
	if len(f.Args()) > 0 {
		return usagef("version takes no arguments, got %q", f.Args())
	}
	b := describeBuild(version, buildTime, readBuildInfo())
	if asJSON {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(b)
	}
	_, err := fmt.Fprint(e.stdout, b.text())
	return err
}
