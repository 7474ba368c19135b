package translog

import (
	"promiseledger/eventstore"
	"promiseledger/projections"
)

// NewReplayFailingAt is Projector.NewReplay whose leaf computation fails
// with err at the event of id failAt.
func NewReplayFailingAt(gen int, failAt eventstore.Recorded, err error) projections.Replay {
	return replay{gen: gen, add: func(b *batch, e eventstore.Recorded) error {
		if e.ID == failAt.ID {
			return &projections.EventError{Event: e, Err: err}
		}
		return b.addChecked(e)
	}}
}
