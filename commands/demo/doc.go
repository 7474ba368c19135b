// Package demo loads PromiseLedger's deterministic demo data set: the two
// programs of the 2021 term, the 236 territories of 2021, the 217 roadmaps
// of the main program (1 republican + 216 local) with their responsible
// deputies and officials, about 2,700 measures, and their history from the
// start of the term up to a given day: reports with evidence, corrections,
// re-targets, status changes, cancellations and hand-overs.
//
// A roadmap's responsible deputies are registered deputies of its
// territory's assembly (the Mazhilis for the republican roadmap, the
// maslikhat otherwise), faction members, who answer for the roadmap on
// their own record too: the deputies the rating ranks are exactly the
// roadmaps' responsibles, ids and names alike (deputy-{KATO}-{NN}). Those
// replaced after the 2023 elections are released and leave the faction.
// Describe tells another data set (package councildemo) who they are
// without reading the store.
//
// Everything is written through the command handlers, never as raw events,
// so the data obeys the same rules as real input. Each roadmap loads with
// handlers of its own whose clock is driven through the simulated history:
// events are recorded days after they take effect, corrections weeks
// later, as in a real ledger.
//
// The whole data set is planned before anything is written, from sources
// seeded by Config.Seed, and every command carries its event id (a UUIDv7
// stamped with its simulated recording time). So the same Config gives the
// same events, ids included, however the concurrent load interleaves; a
// later Now only extends the history; and replaying the plan against a
// store that already holds part of it (Config.Resume) records only what is
// missing.
//
// The figures five months in reproduce the published ones, 7% of the
// republican and 5% of the regional measures done (see calibrate.go).
package demo
