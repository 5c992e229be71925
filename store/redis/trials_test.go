package redis_test

import (
	"context"
	"testing"

	"github.com/tabforge/tabforge/store/redis"
	"github.com/tabforge/tabforge/store/redis/redistest"
	"github.com/tabforge/tabforge/tune"
)

// TestPutNewTrial: PutNewTrial writes a trial whose number is free and
// leaves one whose number is taken as it is.
func TestPutNewTrial(t *testing.T) {
	ctx := context.Background()
	s, err := redis.Open(ctx, redistest.URL(t))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	sid, err := s.CreateStudy(ctx, "s", tune.Minimize)
	if err != nil {
		t.Fatal(err)
	}
	trial := func(value float64) tune.FrozenTrial {
		return tune.FrozenTrial{Number: 0, State: tune.Complete, Value: value, RetryOf: -1}
	}
	if put, err := s.PutNewTrial(ctx, "s", trial(1)); err != nil || !put {
		t.Fatalf("PutNewTrial of a free number = %v, %v; want it written", put, err)
	}
	if put, err := s.PutNewTrial(ctx, "s", trial(2)); err != nil || put {
		t.Errorf("PutNewTrial of a taken number = %v, %v; want it refused", put, err)
	}
	got, err := s.Trials(ctx, sid)
	if err != nil || len(got) != 1 || got[0].Value != 1 {
		t.Errorf("trials after the refused put = %+v, %v; want trial 0 with value 1 alone", got, err)
	}
}
