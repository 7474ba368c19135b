// Package loadbench is the HTTP load benchmark of the whole server: the API,
// the pages and the projectors over a PostgreSQL store holding the demo data
// set, driven over real TCP connections at fixed concurrencies for a fixed
// time, beside the raw PostgreSQL append ceiling measured in the same run.
//
// It is kept out of `go test ./...` by the build tag loadbench. Run it with
//
//	go test -tags loadbench ./api/loadbench -run '^$' -bench . -benchtime=1x -timeout 30m
//
// Flags (after the package): -loadbench.run (how long each measurement
// runs, default 3s), -loadbench.scale (demo Scale, default 0.05),
// -loadbench.reads=false (only the writes). It prints
// one line per measurement and reports the same figures as benchmark
// metrics; docs/performance.md records the figures of a run.
package loadbench
