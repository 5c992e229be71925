package pipeline

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/tabforge/tabforge/config"
)

func TestLocalExecute(t *testing.T) {
	boom := errors.New("boom")
	unit := func(i int, err error, panics bool) Unit {
		return Unit{Key: fmt.Sprint(i), Kind: "test", Run: func(ctx context.Context) ([]byte, error) {
			if panics {
				panic("unit exploded")
			}
			return []byte(fmt.Sprint(i * i)), err
		}}
	}
	tests := []struct {
		name    string
		units   []Unit
		doneErr error // returned by done for unit 1
		want    string
	}{
		{"all succeed", []Unit{unit(0, nil, false), unit(1, nil, false), unit(2, nil, false), unit(3, nil, false)}, nil, ""},
		{"a unit fails", []Unit{unit(0, nil, false), unit(1, boom, false), unit(2, nil, false)}, nil, "boom"},
		{"a unit panics", []Unit{unit(0, nil, false), unit(1, nil, true)}, nil, "panic: unit exploded"},
		{"done stops", []Unit{unit(0, nil, false), unit(1, nil, false), unit(2, nil, false)}, boom, "boom"},
	}
	for _, tt := range tests {
		for _, workers := range []int{1, 3} {
			t.Run(fmt.Sprintf("%s/workers=%d", tt.name, workers), func(t *testing.T) {
				got := map[int]string{}
				calls := 0
				err := Local{Workers: workers}.Execute(context.Background(), tt.units, func(i int, r UnitResult) error {
					calls++
					got[i] = string(r.Value)
					if r.Worker != LocalWorker {
						t.Errorf("unit %d ran on %q; want %q", i, r.Worker, LocalWorker)
					}
					if i == 1 {
						return tt.doneErr
					}
					return nil
				})
				if tt.want == "" {
					if err != nil {
						t.Fatal(err)
					}
					for i := range tt.units {
						if got[i] != fmt.Sprint(i*i) {
							t.Errorf("unit %d result %q, want %d", i, got[i], i*i)
						}
					}
					return
				}
				if err == nil || !strings.Contains(err.Error(), tt.want) {
					t.Errorf("err = %v, want %q", err, tt.want)
				}
			})
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := (Local{}).Execute(ctx, []Unit{unit(0, nil, false)}, func(int, UnitResult) error { return nil }); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled Execute = %v, want context.Canceled", err)
	}
}

// recordingExecutor runs units locally and keeps their specs, as a queue
// executor would send them.
type recordingExecutor struct {
	mu        sync.Mutex
	specs     []foldSpec
	ensembles []ensembleUnitSpec
}

func (r *recordingExecutor) Execute(ctx context.Context, units []Unit, done func(int, UnitResult) error) error {
	for _, u := range units {
		var err error
		var fs foldSpec
		var es ensembleUnitSpec
		switch u.Kind {
		case "fold":
			err = json.Unmarshal(u.Spec, &fs)
		case EnsembleUnitKind:
			err = json.Unmarshal(u.Spec, &es)
		default:
			err = errors.New("unknown kind")
		}
		if err != nil || u.Key == "" {
			return fmt.Errorf("unit %q of kind %q has spec %s: %v", u.Key, u.Kind, u.Spec, err)
		}
		r.mu.Lock()
		if u.Kind == "fold" {
			r.specs = append(r.specs, fs)
		} else {
			r.ensembles = append(r.ensembles, es)
		}
		r.mu.Unlock()
	}
	return Local{Workers: 1}.Execute(ctx, units, done)
}

// TestTrainThroughExecutor trains through an executor that sees every CV
// fold unit and ensemble unit: each is described by reference (dataset
// hash and fold number; the candidates' predictions by content hash),
// and the leaderboard is the one the default executor gives.
func TestTrainThroughExecutor(t *testing.T) {
	cfg := config.Default()
	cfg.Data, cfg.Target = filepath.Join("..", "testdata", "credit_data.csv"), "Status"
	cfg.Models, cfg.CVFolds, cfg.Out, cfg.Cache = []string{"logistic", "tree"}, 3, t.TempDir(), false
	want, err := Train(context.Background(), cfg, Options{})
	if err != nil {
		t.Fatal(err)
	}
	rec := &recordingExecutor{}
	got, err := Train(context.Background(), cfg, Options{Executor: rec})
	if err != nil {
		t.Fatal(err)
	}
	if len(rec.specs) < 2*cfg.CVFolds {
		t.Fatalf("executor saw %d fold units, want at least %d", len(rec.specs), 2*cfg.CVFolds)
	}
	for _, s := range rec.specs {
		if s.Dataset != got.DatasetHash || s.Fold < 0 || s.Fold >= cfg.CVFolds || s.Learner == "" {
			t.Errorf("fold spec %+v does not reference dataset %s and a fold", s, got.DatasetHash)
		}
	}
	if len(rec.ensembles) != 2 {
		t.Errorf("executor saw %d ensemble units, want 2 (average and selection)", len(rec.ensembles))
	}
	for _, s := range rec.ensembles {
		if s.Dataset != got.DatasetHash || s.Run != got.RunID || len(s.Inputs) != 64 || len(s.Members) < 2 {
			t.Errorf("ensemble spec %+v does not reference run %s, dataset %s, inputs and members", s, got.RunID, got.DatasetHash)
		}
	}
	if len(got.Leaderboard) != len(want.Leaderboard) {
		t.Fatalf("leaderboard has %d entries through the executor, %d by default", len(got.Leaderboard), len(want.Leaderboard))
	}
	for i := range want.Leaderboard {
		w, g := want.Leaderboard[i], got.Leaderboard[i]
		if w.Model != g.Model || fmt.Sprint(w.CV) != fmt.Sprint(g.CV) || fmt.Sprint(w.Test) != fmt.Sprint(g.Test) {
			t.Errorf("leaderboard %d: %s %v %v through the executor, %s %v %v by default", i, g.Model, g.CV, g.Test, w.Model, w.CV, w.Test)
		}
	}
}
