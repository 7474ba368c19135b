package pglocal

import (
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"
)

// Config describes a private PostgreSQL server.
type Config struct {
	// DataDir holds the cluster. When it has no PG_VERSION file it is
	// created with initdb; otherwise it is reused, so data survives restarts.
	// The server log is appended to LogFileName inside it.
	DataDir string

	// Port is the TCP port on 127.0.0.1. Zero picks a free port at every
	// start.
	Port int

	// BinDir is the directory holding initdb and postgres. Empty means
	// FindBinDir.
	BinDir string

	// Logger receives progress messages. Nil discards them.
	Logger *slog.Logger

	// FallbackParent, when set, is where the cluster goes if we run as root
	// and the unprivileged user postgres then runs as cannot reach
	// DataDir's parent (a folder under /root, say): a new cluster is made
	// in a directory under FallbackParent named after DataDir, and DataDir
	// becomes a symbolic link to it. Empty means such a DataDir is an
	// error. Server.DataDir says where the cluster is.
	FallbackParent string

	// Settings are extra postgresql.conf settings, passed as -c name=value.
	// They override the defaults (see DefaultSettings). The settings that
	// decide where the server listens are reserved: see Validate.
	Settings map[string]string
}

// LogFileName is the file, inside the data dir, that receives the server's
// stderr. It lives with the data so that it survives the process and is
// found next to the cluster it describes.
const LogFileName = "postgres.log"

// DefaultSettings returns the settings every server gets unless
// Config.Settings overrides them. fsync stays on: benchmarks run against
// these servers and must see realistic commit costs.
func DefaultSettings() map[string]string {
	return map[string]string{
		"max_connections": "200",
		"shared_buffers":  "128MB",
		"fsync":           "on",
	}
}

// reservedSettings are set by Start itself. listen_addresses is among them
// because the cluster uses trust authentication: widening it would hand
// superuser access to the network.
var reservedSettings = []string{
	"port",
	"listen_addresses",
	"unix_socket_directories",
	"data_directory",
	"config_file",
	"hba_file",
}

func (c *Config) setDefaults() {
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
}

// Validate reports the first problem that would make Start fail before it
// touches the disk.
func (c Config) Validate() error {
	if c.DataDir == "" {
		return errors.New("pglocal: config: DataDir is required")
	}
	if c.Port < 0 || c.Port > 65535 {
		return fmt.Errorf("pglocal: config: Port %d is outside 0..65535", c.Port)
	}
	for _, name := range slices.Sorted(maps.Keys(c.Settings)) {
		if err := validateSetting(name, c.Settings[name]); err != nil {
			return fmt.Errorf("pglocal: config: setting %q: %w", name, err)
		}
	}
	return nil
}

func validateSetting(name, value string) error {
	if name == "" {
		return errors.New("empty name")
	}
	for _, r := range name {
		ok := r == '_' || r == '.' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9'
		if !ok {
			return fmt.Errorf("name contains %q; PostgreSQL setting names are letters, digits, '_' and '.'", r)
		}
	}
	// PostgreSQL setting names are case-insensitive.
	if slices.Contains(reservedSettings, strings.ToLower(name)) {
		return errors.New("reserved: pglocal sets it itself")
	}
	if slices.Contains([]byte(value), 0) {
		return errors.New("value contains a NUL byte")
	}
	return nil
}

// settingArgs renders defaults overridden by extra as postgres command-line
// arguments, sorted so that the command line is reproducible.
func settingArgs(extra map[string]string) []string {
	all := DefaultSettings()
	maps.Copy(all, extra)
	var args []string
	for _, name := range slices.Sorted(maps.Keys(all)) {
		args = append(args, "-c", name+"="+all[name])
	}
	return args
}
