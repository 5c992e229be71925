package eval

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tabforge/tabforge/split"
)

func TestCrossValidateOrderAndConcurrency(t *testing.T) {
	folds, err := split.KFold(40, 8, true, 1)
	if err != nil {
		t.Fatal(err)
	}
	for _, workers := range []int{0, 1, 3, 8, 100} {
		var running, peak atomic.Int32
		res, err := CrossValidate(context.Background(), folds, workers, func(ctx context.Context, i int, f split.Fold) (Metrics, error) {
			r := running.Add(1)
			for {
				p := peak.Load()
				if r <= p || peak.CompareAndSwap(p, r) {
					break
				}
			}
			// Later folds finish first, so fold order must come from the index.
			time.Sleep(time.Duration(8-i) * time.Millisecond)
			running.Add(-1)
			return Metrics{"fold": float64(i), "test": float64(len(f.Test))}, nil
		})
		if err != nil {
			t.Fatalf("workers=%d: %v", workers, err)
		}
		for i, m := range res {
			if m["fold"] != float64(i) || m["test"] != float64(len(folds[i].Test)) {
				t.Errorf("workers=%d: result %d = %v", workers, i, m)
			}
		}
		if workers > 0 && int(peak.Load()) > workers {
			t.Errorf("workers=%d: %d folds ran at once", workers, peak.Load())
		}
	}
}

func TestCrossValidateFirstErrorCancels(t *testing.T) {
	folds, _ := split.KFold(20, 10, false, 0)
	boom := errors.New("boom")
	var started atomic.Int32
	_, err := CrossValidate(context.Background(), folds, 2, func(ctx context.Context, i int, f split.Fold) (Metrics, error) {
		started.Add(1)
		if i == 1 {
			return nil, boom
		}
		select { // a slow fold that honours ctx
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(5 * time.Second):
			return Metrics{}, nil
		}
	})
	if !errors.Is(err, boom) {
		t.Fatalf("error %v; want boom", err)
	}
	if n := started.Load(); n > 3 {
		t.Errorf("%d folds started after the failure of fold 1; want at most 3", n)
	}
}

func TestCrossValidatePanicAndCancel(t *testing.T) {
	folds, _ := split.KFold(6, 3, false, 0)
	_, err := CrossValidate(context.Background(), folds, 1, func(ctx context.Context, i int, f split.Fold) (Metrics, error) {
		if i == 2 {
			panic("bad fold")
		}
		return Metrics{}, nil
	})
	if err == nil {
		t.Fatal("panicking fold: nil error")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	calls := 0
	_, err = CrossValidate(ctx, folds, 1, func(ctx context.Context, i int, f split.Fold) (Metrics, error) {
		calls++
		return Metrics{}, nil
	})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled ctx: error %v; want context.Canceled", err)
	}
	if calls != 0 {
		t.Errorf("cancelled ctx: fit called %d times", calls)
	}
}
