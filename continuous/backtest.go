package continuous

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/tabforge/tabforge/artifact"
	"github.com/tabforge/tabforge/config"
	"github.com/tabforge/tabforge/frame"
	"github.com/tabforge/tabforge/pipeline"
	"github.com/tabforge/tabforge/registry"
	"github.com/tabforge/tabforge/report"
	"github.com/tabforge/tabforge/store/sqlite"
)

// BacktestOptions says how Backtest walks through time.
type BacktestOptions struct {
	// Every is the length of a period: "month", "quarter", "year", or a
	// positive number (of days for a datetime time column, else of the
	// column's units).
	Every string
	// Start is the first period's start, a date (YYYY-MM-DD) or a
	// number; the first model trains on the rows before it.
	Start string
	// Periods caps the number of periods; 0 runs to the end of the data.
	Periods int
	// Policy is the continuous strategy's retrain policy (the command's
	// is DefaultPolicy, as retrain's and watch's); each retrain holds
	// out exactly the latest period (Policy.HoldoutRows is set).
	Policy Policy
	// Dir is the working directory: data slices, a private SQLite
	// registry, artifacts and models. It should be empty.
	Dir string
	// Logger gets a line per period; nil discards.
	Logger *slog.Logger
	// Executor, if not nil, trains and scores the always strategy's
	// periods as units of kind UnitKind, one per period after the first
	// (on tabforge workers with a dist.Executor; see UnitRunner), while
	// the continuous strategy walks the periods here: its decision on a
	// period depends on the registry the previous periods left, so it
	// is sequential by nature. Static trains once (the first model,
	// shared by all) and only scores, here. Nil keeps everything here,
	// one period after the other.
	Executor pipeline.Executor
	// Share, if not nil, makes a file the units read available to
	// workers that cannot read opts.Dir (dist.Executor.ShareDataset).
	Share func(ctx context.Context, path string) error
	// CodeVersion is part of the units' keys, so that results a queue
	// keeps from another tabforge build are not reused.
	CodeVersion string
}

// BacktestResult is the outcome of Backtest; it encodes to the JSON of
// `tabforge backtest --json`.
type BacktestResult struct {
	Metric     string     `json:"metric"`
	Strategies []Strategy `json:"strategies"`
}

// Strategy is one strategy's backtest: its score on each period and the
// training it cost (the first model, shared by all, included).
type Strategy struct {
	Name         string  `json:"name"`
	Mean         float64 `json:"mean"`
	TrainSeconds float64 `json:"train_seconds"`
	Trainings    int     `json:"trainings"`
	// Refreshes counts the continuous strategy's refreshes (continued
	// boosting of the champion, see Policy.Refresh); their time is in
	// TrainSeconds. It is written when 0 too: `backtest --json`
	// documents the key for every strategy.
	Refreshes int      `json:"refreshes"`
	Periods   []Period `json:"periods"`
}

// Period is a strategy's score on one period, by the model it served
// then.
type Period struct {
	Start   string  `json:"start"`
	Rows    int     `json:"rows"`
	Score   float64 `json:"score"`
	Version string  `json:"version,omitempty"` // the registry version (continuous)
	// Decision and Reason are the continuous strategy's retrain decision
	// on the data before the period.
	Decision string `json:"decision,omitempty"`
	Reason   string `json:"reason,omitempty"`
}

// The strategies, in the order of BacktestResult.Strategies.
const (
	Static     = "static"     // trained once, before the start
	Continuous = "continuous" // Retrain before each period; promote only a better challenger
	Always     = "always"     // retrained before each period, always used
)

// Backtest replays the continuous-learning loop over time on the data of
// cfg (its target, time column and models): a first model trains on the
// rows before opts.Start, then for each period every strategy serves a
// model and is scored on the period's rows. Static keeps the first model;
// always trains a new one on all rows before each period; continuous
// calls Retrain (the real code, with a private registry in opts.Dir) on
// the rows before each period, holding out the latest period, and
// serves whatever is in production.
func Backtest(ctx context.Context, cfg *config.Config, opts BacktestOptions) (*BacktestResult, error) {
	x, err := frame.ReadFile(cfg.Data, pipeline.ReadOptions(cfg))
	if err != nil {
		return nil, fmt.Errorf("backtest: %w", err)
	}
	tc, err := periodColumn(x, cfg.TimeColumn, opts.Start)
	if err != nil {
		return nil, fmt.Errorf("backtest: %s: %w", cfg.Data, err)
	}
	before, last, ps, err := periods(tc, opts.Every, opts.Start, opts.Periods)
	if err != nil {
		return nil, fmt.Errorf("backtest: %w", err)
	}
	if len(before) <= len(last) || len(last) == 0 || len(ps) == 0 {
		return nil, fmt.Errorf("backtest: %d rows before %s (%d in the period before it) and %d periods from it; the first model needs a period to be tested on and older rows to train on", len(before), opts.Start, len(last), len(ps))
	}
	if cfg, err = wholeFileTask(cfg, x); err != nil {
		return nil, fmt.Errorf("backtest: %w", err)
	}
	b, err := newBacktester(ctx, cfg, opts, x)
	if err != nil {
		return nil, err
	}
	defer b.close()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var always *queuedAlways
	defer func() {
		if always != nil {
			cancel()
			always.wait() // a unit still running locally stops before Dir goes
		}
	}()
	for k, p := range ps {
		held := len(last)
		if k > 0 {
			held = len(ps[k-1].rows)
		}
		if err := b.step(ctx, k, ps[k], held, tc); err != nil {
			return nil, fmt.Errorf("backtest: period %s: %w", p.label, err)
		}
		if always != nil {
			if err := always.failed(); err != nil {
				return nil, fmt.Errorf("backtest: always: %w", err)
			}
		}
		if k == 0 && opts.Executor != nil && len(ps) > 1 {
			if always, err = b.queueAlways(ctx, ps, tc); err != nil {
				return nil, fmt.Errorf("backtest: %w", err)
			}
		}
		if opts.Logger != nil {
			s := b.res.Strategies
			var alwaysScore any = s[2].Periods[k].Score
			if b.queued && k > 0 {
				alwaysScore = "queued" // a unit's, known at the end
			}
			opts.Logger.Info("backtest period", "start", p.label, "rows", len(p.rows), "static", s[0].Periods[k].Score,
				"continuous", s[1].Periods[k].Score, "decision", s[1].Periods[k].Decision, "always", alwaysScore)
		}
	}
	if always != nil {
		if err := always.wait(); err != nil {
			return nil, fmt.Errorf("backtest: always: %w", err)
		}
		always.fill(&b.res.Strategies[2])
	}
	if err := b.res.summarize(ps); err != nil {
		return nil, fmt.Errorf("backtest: %w", err)
	}
	return &b.res, nil
}

// wholeFileTask pins cfg's task auto to what the whole file x holds: a
// first period of a few rows would read a numeric target of two whole
// values as binary.
func wholeFileTask(cfg *config.Config, x *frame.Frame) (*config.Config, error) {
	yc, ok := x.Lookup(cfg.Target)
	if !ok || (cfg.Task != "" && cfg.Task != "auto") {
		return cfg, nil
	}
	t, err := pipeline.DetectTask(yc, "auto")
	if err != nil {
		return nil, err
	}
	cfg = cfg.Clone()
	cfg.Task = config.Task(t)
	return cfg, nil
}

// summarize sets each strategy's mean over the periods it scored, and
// fails when no strategy scored any of ps.
func (r *BacktestResult) summarize(ps []period) error {
	scored := 0
	for i := range r.Strategies {
		s := &r.Strategies[i]
		n := 0
		for _, p := range s.Periods {
			if !math.IsNaN(p.Score) {
				s.Mean += p.Score
				n++
			}
		}
		s.Mean /= float64(n) // NaN when no period was scored
		scored += n
	}
	if scored == 0 {
		return fmt.Errorf("no period could be scored: %s is undefined on periods of %s rows; use a longer --every", r.Metric, periodSizes(ps))
	}
	return nil
}

// periodSizes lists the periods' row counts, for messages.
func periodSizes(ps []period) string {
	sizes := make([]string, len(ps))
	for i, p := range ps {
		sizes[i] = strconv.Itoa(len(p.rows))
	}
	return strings.Join(sizes, ", ")
}

// backtester holds a backtest's state between periods.
type backtester struct {
	cfg  *config.Config // the first model's configuration
	opts BacktestOptions
	x    *frame.Frame
	env  Env
	arts *artifact.Store
	db   *sqlite.Store
	res  BacktestResult
	// The models served now by static and always; continuous serves
	// the registry's production version (loaded ones are kept).
	static, always *pipeline.Predictor
	loaded         map[string]*pipeline.Predictor
	// files are the data files of each period, written once (workers
	// may read them while later periods run).
	files map[int]periodFiles
	// queued is set once the always strategy's periods after the first
	// run as units (queueAlways).
	queued bool
}

// name is the registered name of the backtest's models.
const backtestName = "backtest"

func newBacktester(ctx context.Context, cfg *config.Config, opts BacktestOptions, x *frame.Frame) (b *backtester, err error) {
	b = &backtester{cfg: cfg.Clone(), opts: opts, x: x, loaded: map[string]*pipeline.Predictor{}, files: map[int]periodFiles{}}
	if err := os.MkdirAll(filepath.Join(opts.Dir, "data"), 0o755); err != nil {
		return nil, fmt.Errorf("backtest: %w", err)
	}
	if b.db, err = sqlite.Open(ctx, filepath.Join(opts.Dir, "backtest.db")); err != nil {
		return nil, fmt.Errorf("backtest: %w", err)
	}
	if b.arts, err = artifact.Open(ctx, filepath.Join(opts.Dir, "artifacts")); err != nil {
		b.db.Close()
		return nil, fmt.Errorf("backtest: %w", err)
	}
	reg, err := registry.Open(ctx, b.db)
	if err != nil {
		b.close()
		return nil, fmt.Errorf("backtest: %w", err)
	}
	b.env = Env{Registry: reg, Artifacts: b.arts, CodeVersion: "backtest", Dir: filepath.Join(opts.Dir, "continuous"), Runs: b.db, Studies: b.db}
	b.cfg.Name, b.cfg.TestRows, b.cfg.AsOf = backtestName, "", ""
	// Every strategy's models learn from the rows they were tested on,
	// as a promoted challenger does, unless the policy keeps them out.
	b.cfg.RefitAll = !opts.Policy.KeepHoldout
	for _, n := range []string{Static, Continuous, Always} {
		b.res.Strategies = append(b.res.Strategies, Strategy{Name: n})
	}
	return b, nil
}

func (b *backtester) close() {
	b.arts.Close()
	b.db.Close()
}

// step runs period k, p: the strategies' retraining on the rows before
// it, the newest held of them held out for testing, then each one's
// score on its rows.
func (b *backtester) step(ctx context.Context, k int, p period, held int, tc *frame.Column) error {
	pf, err := b.periodFiles(k, p, held, tc)
	if err != nil {
		return err
	}
	data, testRows, test := pf.data, pf.testRows, pf.test
	st := b.res.Strategies
	if k == 0 {
		if err := b.first(ctx, data, testRows); err != nil {
			return err
		}
	} else {
		pol := b.opts.Policy
		pol.HoldoutRows = held
		d, err := Retrain(ctx, b.env, backtestName, data, pol)
		if err != nil {
			return err
		}
		st[1].TrainSeconds += d.TrainSeconds
		if d.ChallengerVersion != "" {
			st[1].Trainings++
		}
		if d.Decision == Refresh {
			st[1].Refreshes++
		}
		reason := d.Reason
		if d.Trigger != "" {
			reason = d.Trigger + "; " + reason
		}
		defer func() {
			// score adds period k; when scoring failed there is none, and
			// its error is the one to report.
			if k < len(st[1].Periods) {
				st[1].Periods[k].Decision, st[1].Periods[k].Reason = d.Decision, reason
			}
		}()
		if b.queued {
			return b.score(ctx, p, test, b.static, nil)
		}
		cfg := b.cfg.Clone()
		cfg.Data, cfg.TestRows, cfg.Out = data, testRows, filepath.Join(b.opts.Dir, "runs", "always")
		res, secs, err := train(ctx, cfg, pipeline.Options{})
		if err != nil {
			return fmt.Errorf("always: %w", err)
		}
		st[2].TrainSeconds += secs
		st[2].Trainings++
		if b.always, err = pipeline.LoadPredictor(res.ModelPath, pipeline.Families()); err != nil {
			return fmt.Errorf("always: %w", err)
		}
	}
	return b.score(ctx, p, test, b.static, b.always)
}

// score scores the static, production and always models on period p's
// rows (the file test). A nil always model is a unit's to score: its
// period's score is NaN until the unit's result fills it in.
func (b *backtester) score(ctx context.Context, p period, test string, static, always *pipeline.Predictor) error {
	st := b.res.Strategies
	prod, version, err := b.production(ctx)
	if err != nil {
		return err
	}
	for i, m := range []*pipeline.Predictor{static, prod, always} {
		if m == nil {
			st[i].Periods = append(st[i].Periods, Period{Start: p.label, Rows: len(p.rows), Score: math.NaN()})
			continue
		}
		var score float64
		if _, err := scoreOn(m, test, frame.ReadOptions{}, nil, b.res.Metric, &score); err != nil {
			return fmt.Errorf("%s: %w", st[i].Name, err)
		}
		per := Period{Start: p.label, Rows: len(p.rows), Score: score}
		if i == 1 {
			per.Version = version
		}
		st[i].Periods = append(st[i].Periods, per)
	}
	return nil
}

// first trains the model every strategy starts from on data (tested on
// the testRows file), registers it and puts it in production (forced: a
// backtest compares strategies, it does not gate the first model).
func (b *backtester) first(ctx context.Context, data, testRows string) error {
	cfg := b.cfg.Clone()
	cfg.Data, cfg.TestRows, cfg.Out = data, testRows, filepath.Join(b.opts.Dir, "runs", "first")
	res, secs, err := train(ctx, cfg, pipeline.Options{Runs: b.db, Studies: b.db,
		Registrar: pipeline.StoreRegistrar{Registry: b.env.Registry, Artifacts: b.arts, CodeVersion: b.env.CodeVersion}})
	if err != nil {
		return err
	}
	if res.Registered == nil {
		return errors.New("the first model was not registered")
	}
	if _, err := b.env.Registry.Promote(ctx, res.Registered.Model.Version, registry.Production, registry.PromoteOptions{Force: true, Reason: "backtest: the first model"}); err != nil {
		return err
	}
	if b.static, err = pipeline.LoadPredictor(res.ModelPath, pipeline.Families()); err != nil {
		return err
	}
	b.always, b.res.Metric = b.static, res.Metric
	for i := range b.res.Strategies {
		b.res.Strategies[i].TrainSeconds, b.res.Strategies[i].Trainings = secs, 1
	}
	return nil
}

// production loads the registry's production version, once.
func (b *backtester) production(ctx context.Context) (*pipeline.Predictor, string, error) {
	m, err := b.env.Registry.Production(ctx, backtestName)
	if err != nil {
		return nil, "", err
	}
	if p, ok := b.loaded[m.Version]; ok {
		return p, m.Version, nil
	}
	p, err := pipeline.LoadRegistered(ctx, b.arts, m)
	if err != nil {
		return nil, "", err
	}
	b.loaded[m.Version] = p
	return p, m.Version, nil
}

// write writes the rows of the backtest's data to a Parquet file of its
// directory (Parquet keeps every column's kind, so a slice reads back
// as the whole does).
func (b *backtester) write(name string, rows []int) (string, error) {
	path := filepath.Join(b.opts.Dir, "data", name)
	if err := frame.WriteParquet(path, b.x.Take(rows)); err != nil {
		return "", err
	}
	return path, nil
}

// train runs the pipeline on cfg and times it; a model that failed its
// quality gates is still a model here.
func train(ctx context.Context, cfg *config.Config, o pipeline.Options) (*pipeline.Result, float64, error) {
	start := time.Now()
	res, err := pipeline.Train(ctx, cfg, o)
	var gate *pipeline.GateError
	if err != nil && !errors.As(err, &gate) {
		return nil, 0, err
	}
	return res, time.Since(start).Seconds(), nil
}

// WriteHTML writes the backtest as an HTML page with a chart of every
// strategy's score by period (report.WriteBacktest).
func (r *BacktestResult) WriteHTML(path, title string) error {
	b := &report.Backtest{Title: title, Metric: r.Metric}
	for i, s := range r.Strategies {
		bs := report.BacktestSeries{Name: s.Name, Mean: s.Mean, TrainSeconds: s.TrainSeconds, Trainings: s.Trainings}
		for _, p := range s.Periods {
			bs.Scores = append(bs.Scores, p.Score)
			if i == 0 {
				b.Periods = append(b.Periods, p.Start)
			}
		}
		b.Series = append(b.Series, bs)
	}
	return report.WriteBacktest(path, b)
}
