package demo_test

import (
	"context"
	"fmt"
	"testing"

	"promiseledger/commands/demo"
	"promiseledger/eventstore/memory"
)

func TestDbg(t *testing.T) {
	store := memory.New()
	_, err := demo.Load(context.Background(), store, demo.Config{Seed: 2, Now: now, Workers: 1})
	fmt.Println(err)
	recs, _ := store.ReadStream(context.Background(), "indicator-01868d70-7408-7c00-a031-49e674317c69", 1, 100)
	for _, r := range recs { fmt.Println(r.Type, string(r.Data)); fmt.Println("    ", string(r.Metadata)) }
}
