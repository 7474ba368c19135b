package projections

import "context"

// SetSettleLiveComputed sets the hook SettleLive runs between computing
// the pending levels and writing them; the returned func removes it. Tests
// that set it must not run in parallel.
func SetSettleLiveComputed(f func(ctx context.Context, gen int)) (restore func()) {
	old := settleLiveComputed
	settleLiveComputed = f
	return func() { settleLiveComputed = old }
}
