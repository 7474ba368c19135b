package demo_test

import (
	"context"
	"math"
	"strings"
	"testing"
	"time"

	"promiseledger/commands/demo"
	"promiseledger/eventstore/memory"
)

func TestConfigValidate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		cfg  demo.Config
		want string // part of the error; empty for none
	}{
		{name: "defaults", cfg: demo.Config{Now: now}},
		{name: "no now", cfg: demo.Config{}, want: "Now is required"},
		{name: "now before start", cfg: demo.Config{Now: demo.DefaultStart().Add(-time.Hour)}, want: "not after Start"},
		{name: "negative scale", cfg: demo.Config{Now: now, Scale: -1}, want: "Scale"},
		{name: "NaN scale", cfg: demo.Config{Now: now, Scale: math.NaN()}, want: "Scale"},
		{name: "huge scale", cfg: demo.Config{Now: now, Scale: 100}, want: "Scale"},
		{name: "negative workers", cfg: demo.Config{Now: now, Workers: -2}, want: "Workers"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			// Load applies the defaults and validates before touching the store.
			_, err := demo.Load(context.Background(), memory.New(), withScale(tt.cfg))
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("Load: %v", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Errorf("Load: %v, want an error about %q", err, tt.want)
			}
		})
	}
}

// withScale keeps the valid cases quick: a zero Scale would mean full size.
func withScale(cfg demo.Config) demo.Config {
	if cfg.Scale == 0 {
		cfg.Scale = smallScale
	}
	return cfg
}
