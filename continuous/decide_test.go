package continuous

import (
	"context"
	"math"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/tabforge/tabforge/artifact"
	"github.com/tabforge/tabforge/config"
	"github.com/tabforge/tabforge/frame"
	"github.com/tabforge/tabforge/pipeline"
	"github.com/tabforge/tabforge/registry"
	"github.com/tabforge/tabforge/store/sqlite"
)

// TestBlocking: a failed r2 floor blocks a challenger unless the champion
// scores lower than the challenger on the same rows; other gates always
// block.
func TestBlocking(t *testing.T) {
	floor := pipeline.Gate{Name: "min_r2_threshold", Metric: "r2", Threshold: 0.75, Value: 0.6}
	rule := pipeline.Gate{Name: "rule", Metric: "r2", Detail: "price below cost"}
	latency := pipeline.Gate{Name: "max_latency", Metric: "latency_ms", Threshold: 5, Value: 9, Max: true}
	for _, tc := range []struct {
		name   string
		gates  pipeline.Gates
		champ  float64
		blocks int
	}{
		{"floor, champion worse", pipeline.Gates{floor}, 0.5, 0},
		{"floor, champion better", pipeline.Gates{floor}, 0.7, 1},
		{"floor, a tie", pipeline.Gates{floor}, 0.6, 0},
		{"rule", pipeline.Gates{floor, rule}, 0.5, 1},
		{"latency", pipeline.Gates{latency}, 0.5, 1},
		{"passed", pipeline.Gates{{Name: "min_r2_threshold", Metric: "r2", Passed: true}}, 0.5, 0},
	} {
		d := &Decision{Metric: "r2", ChampionScore: tc.champ, ChallengerScore: 0.6}
		if got := blocking(tc.gates, d); len(got) != tc.blocks {
			t.Errorf("%s: blocking = %q; want %d", tc.name, got, tc.blocks)
		}
	}
	if got := blocking(pipeline.Gates{floor}, &Decision{Metric: "r2", ChampionScore: 0.7}); !slices.Equal(got, pipeline.Gates{floor}.Failures()) {
		t.Errorf("blocking = %q; want the gate's failure", got)
	}
}

// TestTied: a challenger below the champion ties it when it wins at
// least TieWins of the paired resamples; a gain, or no TieWins, is no tie.
func TestTied(t *testing.T) {
	for _, tc := range []struct {
		name string
		pol  Policy
		gain float64
		p    *Paired
		want bool
	}{
		{"within noise", Policy{TieWins: 0.05}, -0.01, &Paired{ChallengerWins: 0.24}, true},
		{"at the share", Policy{TieWins: 0.05}, -0.01, &Paired{ChallengerWins: 0.05}, true},
		{"clearly worse", Policy{TieWins: 0.05}, -0.05, &Paired{ChallengerWins: 0.01}, false},
		{"off", Policy{}, -0.01, &Paired{ChallengerWins: 0.24}, false},
		{"no paired comparison", Policy{TieWins: 0.05}, -0.01, nil, false},
		{"a gain", Policy{TieWins: 0.05}, 0.01, &Paired{ChallengerWins: 0.7}, false},
	} {
		if got := tc.pol.tied(tc.gain, tc.p); got != tc.want {
			t.Errorf("%s: tied = %v; want %v", tc.name, got, tc.want)
		}
	}
}

// TestRecentDrift: the newest rows call for a challenger when their
// features shift from the rows just before them, not when they do not,
// and the time column is left out of the comparison (it always moves).
func TestRecentDrift(t *testing.T) {
	const n, k = 2000, 500
	r := rand.New(rand.NewPCG(7, 1))
	for _, tc := range []struct {
		name  string
		shift float64
		want  bool
	}{{"no shift", 0, false}, {"shift", 3, true}} {
		day, a, b, y := make([]float64, n), make([]float64, n), make([]float64, n), make([]float64, n)
		for i := range n {
			day[i], a[i], b[i], y[i] = float64(i*3600), r.NormFloat64(), r.NormFloat64(), r.NormFloat64()
			if i >= n-k {
				a[i] += tc.shift
				b[i] += tc.shift
			}
		}
		x, err := frame.New(frame.NewDatetime("t", day), frame.NewNumeric("a", a), frame.NewNumeric("b", b), frame.NewNumeric("y", y))
		if err != nil {
			t.Fatal(err)
		}
		holdout := make([]int, k)
		for i := range holdout {
			holdout[i] = n - k + i
		}
		p := &pipeline.Predictor{Schema: []pipeline.Field{{Name: "t"}, {Name: "a"}, {Name: "b"}, {Name: "y"}}}
		cfg := &config.Config{Target: "y", TimeColumn: "t"}
		if got := recentDrift(context.Background(), p, cfg, x, holdout); (got != "") != tc.want {
			t.Errorf("%s: recentDrift = %q; want a trigger: %v", tc.name, got, tc.want)
		}
	}
}

// TestDecideUndefinedScore: a challenger whose score on the newest rows is
// NaN (its predictions are not numbers) is kept out, whatever the metric's
// sense; NaN compared false with every margin and used to be promoted.
func TestDecideUndefinedScore(t *testing.T) {
	ctx := context.Background()
	env, champ, chal := decideEnv(t)
	reg := env.Registry
	for _, metric := range []string{"r2", "rmse", "auc"} {
		d := &Decision{Decision: Keep, Metric: metric, ChampionScore: 0.5, ChallengerScore: math.NaN(),
			ChallengerVersion: chal.Version, HoldoutRows: 10, Paired: &Paired{}}
		d, err := decide(ctx, env, champ, &pipeline.Result{Deployable: true}, DefaultPolicy(), d)
		if err != nil {
			t.Fatal(err)
		}
		if d.Decision != Keep {
			t.Errorf("%s: decision = %s (%s); want keep", metric, d.Decision, d.Reason)
		}
		if p, _ := reg.Production(ctx, "sales"); p.Version != champ.Version {
			t.Fatalf("%s: production = %s; want the champion %s", metric, p.Version, champ.Version)
		}
	}
}

// decideEnv returns a registry on real SQLite with a champion of "sales"
// in production and a challenger registered beside it.
func decideEnv(t *testing.T) (env Env, champ, chal *registry.Model) {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "tf.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	reg := registry.New(st)
	register := func(dataset string) *registry.Model {
		m, _, err := reg.Register(ctx, registry.Model{Name: "sales",
			Identity:   registry.Identity{DatasetHash: dataset, ConfigHash: "c0ffee", Seed: 1, CodeVersion: "test"},
			Artifact:   artifact.Ref{URL: "mem://", Key: "models/" + dataset, SHA256: "00"},
			Deployable: true})
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	champ, chal = register("v1"), register("v2")
	if _, err := reg.Promote(ctx, champ.Version, registry.Production, registry.PromoteOptions{}); err != nil {
		t.Fatal(err)
	}
	return Env{Registry: reg}, champ, chal
}

// TestDecideTie: a challenger a little below the champion on the newest
// rows that still wins TieWins of the paired resamples ties it and is
// promoted, as it learnt those rows, with the rule named in the reason;
// without the rule, or winning fewer resamples, it is kept.
func TestDecideTie(t *testing.T) {
	ctx := context.Background()
	off := DefaultPolicy()
	off.TieWins = 0
	for _, tc := range []struct {
		name string
		pol  Policy
		wins float64
		want string
	}{
		{"within noise", DefaultPolicy(), 0.2, Promote},
		{"rule off", off, 0.2, Keep},
		{"beyond noise", DefaultPolicy(), 0.01, Keep},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env, champ, chal := decideEnv(t)
			d := &Decision{Decision: Keep, Metric: "r2", ChampionScore: 0.30, ChallengerScore: 0.29,
				ChallengerVersion: chal.Version, HoldoutRows: 100, Paired: &Paired{Resamples: 200, ChallengerWins: tc.wins}}
			d, err := decide(ctx, env, champ, &pipeline.Result{Deployable: true}, tc.pol, d)
			if err != nil {
				t.Fatal(err)
			}
			if d.Decision != tc.want {
				t.Fatalf("decision %s (%s); want %s", d.Decision, d.Reason, tc.want)
			}
			if tied := strings.HasPrefix(d.Reason, ruleTie+": "); tied != (tc.want == Promote) {
				t.Errorf("reason %q; want the tie rule named: %v", d.Reason, tc.want == Promote)
			}
			want := champ.Version
			if tc.want == Promote {
				want = chal.Version
			}
			if p, err := env.Registry.Production(ctx, "sales"); err != nil || p.Version != want {
				t.Fatalf("production = %v (%v); want %s", p, err, want)
			}
		})
	}
}
