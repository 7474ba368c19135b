package projections

import (
	"container/list"
	"sync"
	"sync/atomic"
)

// liveIndicators keeps the folded state of the indicators the live path
// applied last, so that the next batch on an indicator folds in only its
// new events (Indicators.Apply). It is keyed by database (databaseOf: tests
// run many databases in one process, and a restore is another database)
// and indicator; a state is the fold of its stream's first `version`
// events, which are the same in every generation, so the generation is not
// part of the key. Least recently used states are dropped past
// liveIndicatorsMax.
var liveIndicators = &foldCache{max: liveIndicatorsMax, index: map[foldKey]*list.Element{}}

// liveIndicatorsMax bounds liveIndicators: the demo data set has 2,743
// measures, one at a million events ~74,000.
const liveIndicatorsMax = 20_000

// foldCacheHits counts the indicators a batch folded on from a kept state
// (tests).
var foldCacheHits atomic.Int64

type foldKey struct{ db, id string }

type foldEntry struct {
	key foldKey
	f   *indicatorFolded
}

type foldCache struct {
	mu    sync.Mutex
	max   int
	order list.List // most recently used first
	index map[foldKey]*list.Element
}

// take removes k's state for the caller to fold on and put back: two
// batches never fold one state at once.
func (c *foldCache) take(k foldKey) *indicatorFolded {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.index[k]
	if !ok {
		return nil
	}
	c.order.Remove(e)
	delete(c.index, k)
	return e.Value.(foldEntry).f
}

// put keeps f as k's state unless a later version is kept already.
func (c *foldCache) put(k foldKey, f *indicatorFolded) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.index[k]; ok {
		if e.Value.(foldEntry).f.version > f.version {
			return
		}
		c.order.Remove(e)
	}
	c.index[k] = c.order.PushFront(foldEntry{k, f})
	for c.order.Len() > c.max {
		last := c.order.Back()
		c.order.Remove(last)
		delete(c.index, last.Value.(foldEntry).key)
	}
}

// forget drops every state (tests).
func (c *foldCache) forget() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.order.Init()
	c.index = map[foldKey]*list.Element{}
}
