package pipeline

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tabforge/tabforge/config"
	"github.com/tabforge/tabforge/model"
	"github.com/tabforge/tabforge/progress"
	"github.com/tabforge/tabforge/store/sqlite"
	"github.com/tabforge/tabforge/tune"
)

// TestTuning runs the search with TPE and with the grid fallback and checks
// each respects its trial budget (finished trials, complete or pruned) and
// that the tuned model is scored.
func TestTuning(t *testing.T) {
	for _, tc := range []struct {
		tpe     bool
		sampler string
		trials  int
	}{{true, "tpe", 6}, {false, "grid", 5}} { // grid: trial 0 (the defaults), then the 4 grid points
		t.Run(tc.sampler, func(t *testing.T) {
			cfg := config.Default()
			cfg.Data, cfg.Target = filepath.Join("..", "testdata", "credit_data.csv"), "Status"
			cfg.Models, cfg.CVFolds, cfg.Out = []string{"logistic"}, 3, t.TempDir()
			cfg.EnableHyperparameterTuning, cfg.UseOptuna, cfg.MaxEvals = true, tc.tpe, 6
			res, err := Train(context.Background(), cfg, Options{})
			if err != nil {
				t.Fatal(err)
			}
			e := res.Leaderboard[0]
			if e.Tuning == nil || e.Tuning.Sampler != tc.sampler || e.Tuning.Trials+e.Tuning.Pruned != tc.trials {
				t.Fatalf("tuning = %+v; want %s with %d trials", e.Tuning, tc.sampler, tc.trials)
			}
			if e.CV["auc"] < 0.7 || e.Test["auc"] < 0.7 {
				t.Errorf("tuned logistic: cv %v test %v", e.CV["auc"], e.Test["auc"])
			}
		})
	}
}

// TestTuningTimeBudget gives a large trial budget and a short time budget:
// the search stops on the deadline, within one trial of it.
func TestTuningTimeBudget(t *testing.T) {
	cfg := config.Default()
	cfg.Data, cfg.Target = filepath.Join("..", "testdata", "credit_data.csv"), "Status"
	cfg.Models, cfg.CVFolds, cfg.Out = []string{"gbdt"}, 3, t.TempDir()
	cfg.EnableHyperparameterTuning, cfg.MaxEvals, cfg.TimeBudget = true, 1000, config.Duration(3*time.Second)
	start := time.Now()
	res, err := Train(context.Background(), cfg, Options{})
	if err != nil {
		t.Fatal(err)
	}
	info := res.Leaderboard[0].Tuning
	if info == nil || info.Stopped != "deadline" || info.Trials == 0 {
		t.Fatalf("tuning = %+v; want stopped on the deadline after some trials", info)
	}
	// The study ends within its budget plus its longest trial (running
	// trials are cancelled at the deadline); 0.25 s covers bookkeeping.
	if info.Budget != 3 || info.Seconds > info.Budget+info.LongestTrial+0.25 {
		t.Errorf("study took %.2fs on a %.2fs budget, longest trial %.2fs", info.Seconds, info.Budget, info.LongestTrial)
	}
	t.Logf("%d trials in %.1fs (budget 3s); run took %s", info.Trials, info.Seconds, time.Since(start))
}

// TestTuningPrunesAndResumes: trials report their running CV score per
// fold and the median pruner stops some; a run interrupted mid-study and
// started again on the same SQLite store resumes the study, so that the
// two runs together spend the trial budget once.
func TestTuningPrunesAndResumes(t *testing.T) {
	dir := t.TempDir()
	st, err := sqlite.Open(context.Background(), filepath.Join(dir, "studies.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	cfg := config.Default()
	cfg.Data, cfg.Target = filepath.Join("..", "testdata", "credit_data.csv"), "Status"
	// tree: three tuned parameters, so 16 trials stay under the cap of
	// 10 per parameter.
	cfg.Models, cfg.CVFolds, cfg.Out = []string{"tree"}, 5, dir
	cfg.EnableHyperparameterTuning, cfg.MaxEvals, cfg.TuneStartupTrials = true, 16, 4

	// First run: cancelled after the 8th finished trial.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	_, err = Train(ctx, cfg, Options{Studies: st, Progress: func(e progress.Event) {
		if e.Stage == progress.TuneTrial && e.Step == 8 {
			cancel()
		}
	}})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("interrupted run: err = %v; want context.Canceled", err)
	}
	var events int
	res, err := Train(context.Background(), cfg, Options{Studies: st, Progress: func(e progress.Event) {
		if e.Stage == progress.TuneTrial {
			events++
			if e.Total != cfg.MaxEvals || e.Name != "tree" {
				t.Errorf("trial event %+v; want total %d for tree", e, cfg.MaxEvals)
			}
		}
	}})
	if err != nil {
		t.Fatal(err)
	}
	info := res.Leaderboard[0].Tuning
	if info == nil || info.Resumed < 8 || info.Resumed+info.Trials+info.Pruned+info.Failed != cfg.MaxEvals {
		t.Fatalf("resumed run tuning = %+v; want >= 8 resumed trials and %d in all", info, cfg.MaxEvals)
	}
	if events != info.Trials+info.Pruned+info.Failed {
		t.Errorf("%d trial events for %d trials run", events, info.Trials+info.Pruned+info.Failed)
	}
	trials, err := studyTrials(st, info.Study)
	if err != nil {
		t.Fatal(err)
	}
	pruned := 0
	for _, tr := range trials {
		if tr.State == tune.Pruned {
			pruned++
			if s, ok := tr.LastStep(); !ok || s >= cfg.CVFolds {
				t.Errorf("pruned trial %d stopped at step %d; want before the last fold", tr.Number, s)
			}
		}
	}
	if pruned == 0 {
		t.Errorf("no trial of %d pruned by the median pruner", len(trials))
	}
	t.Logf("study %s: %d trials, %d pruned; resumed run: %+v", info.Study, len(trials), pruned, info)
}

func studyTrials(st tune.Storage, name string) ([]tune.FrozenTrial, error) {
	id, err := st.CreateStudy(context.Background(), name, tune.Maximize)
	if err != nil {
		return nil, err
	}
	return st.Trials(context.Background(), id)
}

// TestTuningWarmStart: with both feature variants, the advanced variant's
// study begins with the best trial of the basic variant's study.
func TestTuningWarmStart(t *testing.T) {
	cfg := config.Default()
	cfg.Data, cfg.Target = filepath.Join("..", "testdata", "credit_data.csv"), "Status"
	cfg.Models, cfg.CVFolds, cfg.Out = []string{"logistic"}, 3, t.TempDir()
	cfg.EnableAdvancedFeatures, cfg.EnableInteractionFeatures, cfg.CompareBasicFeatures = true, true, true
	cfg.EnableHyperparameterTuning, cfg.MaxEvals = true, 6
	studies := &tune.Memory{}
	res, err := Train(context.Background(), cfg, Options{Studies: studies})
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]*TuningInfo{}
	for _, e := range res.Leaderboard {
		byName[e.Model] = e.Tuning
	}
	basic, adv := byName["logistic"], byName["logistic"+AdvancedSuffix]
	if basic == nil || adv == nil {
		t.Fatalf("leaderboard %v lacks the tuned variants", res.Leaderboard)
	}
	if basic.WarmStart != "" {
		t.Errorf("the basic variant was warm-started from %s", basic.WarmStart)
	}
	src, err := tune.NewStudy(context.Background(), basic.Study, tune.Config{Direction: tune.Maximize, Storage: studies})
	if err != nil {
		t.Fatal(err)
	}
	best, ok, err := src.Best(context.Background())
	if err != nil || !ok {
		t.Fatal(ok, err)
	}
	if len(best.Params) == 0 {
		t.Fatal("the basic variant's best trial is the defaults: this setup no longer exercises the warm start")
	}
	if want := fmt.Sprintf("%s#%d", basic.Study, best.Number); adv.WarmStart != want {
		t.Fatalf("advanced variant warm start %q; want %q", adv.WarmStart, want)
	}
	dst, err := tune.NewStudy(context.Background(), adv.Study, tune.Config{Direction: tune.Maximize, Storage: studies})
	if err != nil {
		t.Fatal(err)
	}
	trials, err := dst.Trials(context.Background())
	if err != nil || len(trials) == 0 {
		t.Fatal(len(trials), err)
	}
	if got, want := trials[0].ParamValues(), best.ParamValues(); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("advanced trial 0 ran %v; want the basic best %v", got, want)
	}
}

// TestBudgetedTPEStartup: the random startup is a third of the trials the
// budget holds at the first trial's pace, within [3, configured].
func TestBudgetedTPEStartup(t *testing.T) {
	for _, tc := range []struct {
		configured    int
		budget, first time.Duration
		want          int
		fitted        bool
	}{
		{0, 30 * time.Second, time.Second, 10, true},   // 30 trials: Optuna's 10
		{0, 12 * time.Second, time.Second, 4, true},    // 12 trials: 4 random, 8 by TPE
		{0, 4 * time.Second, time.Second, 3, true},     // never fewer than 3
		{20, 300 * time.Second, time.Second, 20, true}, // never more than configured
		{0, 0, time.Second, 0, false},                  // no time budget: plain TPE
		{5, 10 * time.Second, 0, 0, false},             // no pace yet
	} {
		b := &budgetedTPE{TPESampler: tune.TPESampler{StartupTrials: tc.configured}}
		n, fitted := b.fit(tc.budget, tc.first)
		if n != tc.want || fitted != tc.fitted {
			t.Errorf("configured %d, budget %v, first trial %v: startup %d (fitted %v); want %d (%v)",
				tc.configured, tc.budget, tc.first, n, fitted, tc.want, tc.fitted)
		}
		if got := b.current().StartupTrials; fitted && got != n {
			t.Errorf("sampler startup %d after fitting %d", got, n)
		}
	}
}

func TestParamsGroupLogsKeyValues(t *testing.T) {
	var b strings.Builder
	log := slog.New(slog.NewTextHandler(&b, nil))
	log.Info("trial done", "trial", 3, paramsGroup(map[string]any{"max_depth": 6, "learning_rate": 0.1}))
	got := b.String()
	i, j := strings.Index(got, "params.learning_rate=0.1"), strings.Index(got, "params.max_depth=6")
	if i < 0 || j < 0 || i > j || strings.Contains(got, "map[") {
		t.Errorf("trial log %q; want params.learning_rate=0.1 before params.max_depth=6 and no Go map", got)
	}
}

// fixedStarts is a StartSource that always proposes one configuration.
type fixedStarts struct{ start Start }

func (f fixedStarts) Starts(context.Context, StartQuery) ([]Start, error) {
	return []Start{f.start}, nil
}

// logisticStart is a first configuration for a logistic study: its first
// free float parameter at the top of its range, named from.
func logisticStart(t *testing.T, from string) Start {
	t.Helper()
	space := tune.SpaceFor("logistic", model.Binary)
	for _, p := range space.Params {
		if p.Fixed == nil && p.Dist.Kind == tune.Float {
			return Start{Params: map[string]float64{p.Name: p.Dist.High}, Distributions: map[string]tune.Distribution{p.Name: p.Dist}, From: from}
		}
	}
	t.Fatalf("logistic space %+v has no float parameter", space)
	return Start{}
}

// TestStartSource plugs a source of first configurations into a TPE run:
// the study's first trial is the proposed configuration, and the run
// names where it came from.
func TestStartSource(t *testing.T) {
	start := logisticStart(t, "test#7")
	cfg := config.Default()
	cfg.Data, cfg.Target = filepath.Join("..", "testdata", "credit_data.csv"), "Status"
	cfg.Models, cfg.CVFolds, cfg.Out = []string{"logistic"}, 3, t.TempDir()
	cfg.EnableHyperparameterTuning, cfg.UseOptuna, cfg.MaxEvals = true, true, 4
	mem := &tune.Memory{}
	res, err := Train(context.Background(), cfg, Options{Studies: mem, Starts: StartSources{fixedStarts{start}}})
	if err != nil {
		t.Fatal(err)
	}
	info := res.Leaderboard[0].Tuning
	if info == nil || info.WarmStart != "test#7" {
		t.Fatalf("tuning = %+v; want the warm start named test#7", info)
	}
	study, err := tune.NewStudy(context.Background(), info.Study, tune.Config{Storage: mem, Direction: tune.Maximize})
	if err != nil {
		t.Fatal(err)
	}
	trials, err := study.Trials(context.Background())
	if err != nil || len(trials) == 0 {
		t.Fatalf("study trials: %v, %v", trials, err)
	}
	for name, v := range start.Params {
		if got, ok := trials[0].Params[name]; !ok || got != v {
			t.Errorf("first trial %s = %v (%v), want the start's %v", name, got, ok, v)
		}
	}
}

// TestBadStartSkipped: a start whose value lies outside its distribution
// (a damaged store, a search space that changed since) is skipped with a
// warning; it used to end the family's tuning with Enqueue's error.
func TestBadStartSkipped(t *testing.T) {
	bad := logisticStart(t, "damaged#1")
	for name, d := range bad.Distributions {
		bad.Params[name] = d.High * 10
	}
	good := logisticStart(t, "test#7")
	cfg := config.Default()
	cfg.Data, cfg.Target = filepath.Join("..", "testdata", "credit_data.csv"), "Status"
	cfg.Models, cfg.CVFolds, cfg.Out = []string{"logistic"}, 3, t.TempDir()
	cfg.EnableHyperparameterTuning, cfg.UseOptuna, cfg.MaxEvals = true, true, 3
	var logs bytes.Buffer
	o := Options{Studies: &tune.Memory{}, Starts: StartSources{fixedStarts{bad}, fixedStarts{good}}, Logger: slog.New(slog.NewTextHandler(&logs, nil))}
	res, err := Train(context.Background(), cfg, o)
	if err != nil {
		t.Fatal(err)
	}
	e := res.Leaderboard[0]
	if e.Error != "" || e.Tuning == nil || e.Tuning.WarmStart != "test#7" {
		t.Fatalf("logistic entry error %q, tuning %+v; want tuned from test#7 alone", e.Error, e.Tuning)
	}
	if !strings.Contains(logs.String(), "warm start skipped") || !strings.Contains(logs.String(), "damaged#1") {
		t.Errorf("log has no warning for the skipped start:\n%s", logs.String())
	}
}

// TestTrialCapLogged: a max_evals above the family's cap (trialsPerParam
// per tuned parameter) is said in the log; the study used to stop after
// the cap with stopped=max_trials and no word of the max_evals asked for.
func TestTrialCapLogged(t *testing.T) {
	for _, tc := range []struct {
		maxEvals int
		want     string // "" for no such line
	}{
		{12, "max_evals=12 trials=10"}, // logistic tunes one parameter: 10 trials
		{3, ""},
	} {
		cfg := config.Default()
		cfg.Data, cfg.Target = filepath.Join("..", "testdata", "credit_data.csv"), "Status"
		cfg.Models, cfg.CVFolds, cfg.Out = []string{"logistic"}, 3, t.TempDir()
		cfg.EnableHyperparameterTuning, cfg.MaxEvals = true, tc.maxEvals
		var logs strings.Builder
		res, err := Train(context.Background(), cfg, Options{Studies: &tune.Memory{}, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
		if err != nil {
			t.Fatal(err)
		}
		if tu := res.Leaderboard[0].Tuning; tu == nil || tu.Trials+tu.Pruned != min(tc.maxEvals, trialsPerParam) {
			t.Fatalf("max_evals %d: tuning %+v; want %d trials", tc.maxEvals, tu, min(tc.maxEvals, trialsPerParam))
		}
		line := ""
		for l := range strings.Lines(logs.String()) {
			if strings.Contains(l, "trial budget capped") {
				line = l
			}
		}
		if tc.want == "" && line != "" || tc.want != "" && !strings.Contains(line, tc.want) {
			t.Errorf("max_evals %d: cap log line %q; want one with %q", tc.maxEvals, line, tc.want)
		}
	}
}

// TestInformedStartsShortenStartup: a study warm-started by informed
// (meta-learning) starts ends its random startup with them (TPE's model
// samples next; TestWarmStudyInterleavesRandomTrials checks what follows);
// uninformed starts (another study's best) and cold studies keep the
// configured startup.
func TestInformedStartsShortenStartup(t *testing.T) {
	start := logisticStart(t, "test#1")
	for _, tc := range []struct {
		name     string
		starts   StartSource
		informed bool
	}{
		{"cold", StartSources{}, false},
		{"uninformed start", fixedStarts{start}, false},
		{"informed start", fixedStarts{Start{Params: start.Params, Distributions: start.Distributions, From: "meta:x", Informed: true}}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := config.Default()
			cfg.Data, cfg.Target = filepath.Join("..", "testdata", "credit_data.csv"), "Status"
			cfg.Models, cfg.CVFolds, cfg.Out = []string{"logistic"}, 3, t.TempDir()
			cfg.EnableHyperparameterTuning, cfg.UseOptuna, cfg.MaxEvals = true, true, 4
			var logs strings.Builder
			o := Options{Studies: &tune.Memory{}, Starts: tc.starts, Logger: slog.New(slog.NewTextHandler(&logs, nil))}
			if _, err := Train(context.Background(), cfg, o); err != nil {
				t.Fatal(err)
			}
			want := "startup_trials=1" // the one start, no random trial
			got := strings.Contains(logs.String(), "TPE startup after informed starts") && strings.Contains(logs.String(), want)
			if got != tc.informed {
				t.Errorf("startup shortened to %s: %v; want %v", want, got, tc.informed)
			}
		})
	}
	for _, configured := range []int{0, 2, 20} {
		b := &budgetedTPE{TPESampler: tune.TPESampler{StartupTrials: configured}}
		cold := b.current().StartupTrials
		b.warmStart(5)
		// 5 starts end the startup unless fewer trials were configured.
		if got, want := b.current().StartupTrials, min(5, cmp.Or(configured, 10)); got != want {
			t.Errorf("configured %d: startup %d after warmStart(5); want %d", configured, got, want)
		}
		if cold != configured {
			t.Errorf("configured %d: cold startup %d", configured, cold)
		}
	}
}

// TestWarmStudyInterleavesRandomTrials checks which trials of a study
// warm-started with 5 informed starts sample from the prior: every other
// trial after the starts until warmExplore of them, never a cold study's
// trial after its startup, and a constant-liar placeholder is not counted
// as a trial run.
func TestWarmStudyInterleavesRandomTrials(t *testing.T) {
	history := func(done, lies int) *tune.History {
		h := &tune.History{Lies: lies}
		for i := range done + lies {
			h.Trials = append(h.Trials, tune.FrozenTrial{Number: i, State: tune.Complete, Value: float64(i)})
		}
		return h
	}
	random := func(b *budgetedTPE, h *tune.History) bool { return b.sampler(h).StartupTrials == math.MaxInt }
	warm := &budgetedTPE{}
	warm.warmStart(5)
	cold := &budgetedTPE{}
	var got []int
	for done := range 30 {
		if random(warm, history(done, 0)) {
			got = append(got, done)
		}
		if random(cold, history(done, 0)) {
			t.Errorf("cold study: trial %d forced random", done)
		}
	}
	if want := []int{6, 8, 10, 12, 14}; !slices.Equal(got, want) {
		t.Errorf("warm study: random trials after %v finished; want %v", got, want)
	}
	if random(warm, history(5, 1)) || !random(warm, history(6, 1)) {
		t.Errorf("a constant-liar placeholder counted as a finished trial")
	}
}
