package kurrentdb_test

import (
	"testing"

	"promiseledger/eventstore/kurrentdb"
	"promiseledger/eventstore/kurrentdb/internal/fakeserver"
	"promiseledger/eventstore/storetest"
)

// The conformance suite against internal/fakeserver runs the adapter and the
// real client library over gRPC. It checks the adapter against the fake's
// reading of KurrentDB, not against KurrentDB: see TestConformance.

func startFake(t testing.TB, opts fakeserver.Options) *fakeserver.Server {
	t.Helper()
	srv, err := fakeserver.Start(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	return srv
}

// TestConformanceFakeShared shares one server between all stores, each in
// its own namespace, as TestConformance does with a real server.
func TestConformanceFakeShared(t *testing.T) {
	srv := startFake(t, fakeserver.Options{})
	storetest.Run(t, namespaced(srv.URL()))
}

// TestConformanceFakeOwnServer gives each store a server of its own and no
// namespace: the store's log is every event of $all but the server's own
// events and the claims.
func TestConformanceFakeOwnServer(t *testing.T) {
	storetest.Run(t, harness(func(t *testing.T) kurrentdb.Config {
		return kurrentdb.Config{URL: startFake(t, fakeserver.Options{}).URL()}
	}))
}

// TestConformanceFakeOlderServer: servers that answer a repeated append
// without a position and start subscriptions at the position given (both
// plausible for some versions), and read pages of 10 events, so that
// ReadAll, Head and the search for stored ids cross page boundaries. Each
// store gets a server of its own: with such pages, scanning a shared $all
// (see ReadAll) would take the suite's whole time budget.
func TestConformanceFakeOlderServer(t *testing.T) {
	storetest.Run(t, harness(func(t *testing.T) kurrentdb.Config {
		srv := startFake(t, fakeserver.Options{IdempotentNoPosition: true, SubscribeInclusive: true})
		return kurrentdb.Config{URL: srv.URL(), StreamPrefix: namespace(t), ReadPageSize: 10}
	}))
}
