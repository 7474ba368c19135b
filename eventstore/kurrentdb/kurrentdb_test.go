package kurrentdb_test

import (
	"os"
	"testing"

	"promiseledger/eventstore/storetest"
)

// TestConformance runs the conformance suite against the KurrentDB server
// in KURRENTDB_URL, for example
//
//	KURRENTDB_URL='esdb://localhost:2113?tls=false' go test -race ./eventstore/kurrentdb/
//
// Every store works in a stream namespace of its own (Config.StreamPrefix),
// so the server may be shared and need not be empty. ReadAll and Head scan
// $all from its start (see docs/kurrentdb.md), so a fresh server keeps the
// run short. The LargeEvent subtest appends about 2 MiB at once: start the
// server with --max-append-size=4194304 (the default, 1 MiB, rejects it).
func TestConformance(t *testing.T) {
	url := os.Getenv("KURRENTDB_URL")
	if url == "" {
		t.Skip("KURRENTDB_URL is not set: the KurrentDB conformance suite did not run (no server on this machine)")
	}
	storetest.Run(t, namespaced(url))
}
