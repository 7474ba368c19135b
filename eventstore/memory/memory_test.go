package memory_test

import (
	"testing"

	"promiseledger/eventstore"
	"promiseledger/eventstore/memory"
	"promiseledger/eventstore/storetest"
)

func TestConformance(t *testing.T) {
	storetest.Run(t, storetest.Harness{
		New: func(t *testing.T) eventstore.Store {
			s := memory.New()
			t.Cleanup(func() { _ = s.Close() })
			return s
		},
		// The memory store keeps nothing outside the Store object, so the
		// same object is the only view a "reopened" store could have.
		Reopen: func(_ *testing.T, s eventstore.Store) eventstore.Store { return s },
		// No long transactions: every Append commits at once.
		HoldOpen: nil,
	})
}
