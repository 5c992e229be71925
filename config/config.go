package config

// Config is the whole training configuration. Each field's key (its yaml,
// json and koanf tag) is flat snake_case; the comment gives its default
// (see Default) and meaning.
//
// Config is plain data: copy it to clone it (lists and maps are shared by a
// shallow copy; use Clone for a deep one). Fields tagged hash:"-" are
// operational: they say where and how a run happens, not what it computes,
// and Hash leaves them out.
//
// The zero Config is not valid (several switches default to true); start
// from Default or Load.
type Config struct {
	// Data.

	// Data is the path of the training data (CSV or Parquet). Default "".
	Data string `yaml:"data" json:"data" koanf:"data" hash:"-"`
	// Name is the registered model name the run's model becomes a version
	// of (letters, digits, '.', '_', '-'); stages, aliases and rollback
	// act within a name. Default "": the data file's stem (ames for
	// data/ames.csv).
	Name string `yaml:"name" json:"name" koanf:"name" hash:"-"`
	// Sep is the CSV field separator: ",", ";", "tab" (or "\t") or "|".
	// Default "": detected from the file's first lines (see ParseSep).
	Sep string `yaml:"sep" json:"sep" koanf:"sep" hash:"-"`
	// Target is the column to predict. Default "".
	Target string `yaml:"target" json:"target" koanf:"target"`
	// Task is auto, regression, binary or multiclass. Default auto: the
	// pipeline detects it from the target column.
	Task Task `yaml:"task" json:"task" koanf:"task"`
	// TimeColumn is the time column rows are ordered by, for temporal
	// splits, time-ordered cross-validation and features: a datetime or a
	// number (a year), or several columns, comma-separated
	// (Year_Sold,Mo_Sold), ordered lexicographically. Default "" (none).
	TimeColumn string `yaml:"time_column" json:"time_column" koanf:"time_column"`
	// SegmentColumn is the market segment column (e.g. city or
	// neighborhood) for segment features and per-segment metrics.
	// Default "" (none).
	SegmentColumn string `yaml:"segment_column" json:"segment_column" koanf:"segment_column"`
	// Drop lists columns left out of the features. Default none.
	Drop []string `yaml:"drop" json:"drop" koanf:"drop"`
	// PositiveClass is the label of the positive class for binary tasks;
	// on a numeric target, a number in any form ("1", "1.0", "1e+06").
	// Default "": the pipeline picks one (a label such as yes, true, 1,
	// positive, bad, churn, default or fraud, else the rarer class).
	PositiveClass string `yaml:"positive_class" json:"positive_class" koanf:"positive_class"`
	// Schema overrides the inferred kind of columns: column name to numeric,
	// categorical or datetime. Default none.
	Schema map[string]ColumnKind `yaml:"schema" json:"schema" koanf:"schema"`
	// MissingValues lists the texts read as missing in data files besides
	// an empty field, which is always missing, as pandas' na_values: a
	// class or category spelled as one of them (penguins whose species is
	// "NA") is read as missing, its rows dropped from training or imputed.
	// An empty list ([]) reads only empty fields as missing. Instead of a
	// list, a mapping of column names to lists gives texts missing in one
	// column only, besides those of every column (as pandas' dict form
	// keeps its defaults): {BloodPressure: ["0"]} reads a zero blood
	// pressure as missing while a 0 in any other column stays a number.
	// Its key "*" gives the texts of every column, the default ones when
	// left out: {"*": [NA], BloodPressure: ["0"]}. With --set and in the
	// environment the mapping is a YAML flow mapping. A column the
	// training data lacks is an error. Parquet files mark missing values
	// themselves: the texts of every column apply there only to strings
	// that schema converts, a column's own texts to its strings (given to
	// a column of numbers, they are an error). The trained model keeps
	// the texts, and predict, evaluate, explain, drift with --model and
	// serve read new data with them, and monitor realised reads the
	// actuals of its predictions with its target's; models saved before
	// it kept them read with the default. Default [NA, NaN, nan, null,
	// NULL, N/A].
	MissingValues MissingValues `yaml:"missing_values" json:"missing_values" koanf:"missing_values" hash:"omitdefault"`
	// ReadMemoryLimit bounds the memory a data file is read into: a file
	// whose table would take more is refused with an error naming the
	// estimate and the limit, where reading it would end in an
	// out-of-memory kill. A Parquet file is judged from its metadata
	// before any value is decoded (a few kilobytes can claim billions of
	// rows), a CSV file as its rows are read (a .csv.gz file can be a
	// thousand times smaller than its text). Files read a block at a time
	// (predict and explain on large inputs) are not refused for their
	// size. A size (8GiB, 512MB, bytes), auto (half of the memory this
	// process may use: the least of the machine's, its container's cgroup
	// limit and GOMEMLIMIT) or 0 (no limit). Default auto.
	ReadMemoryLimit MemorySize `yaml:"read_memory_limit" json:"read_memory_limit" koanf:"read_memory_limit" hash:"-"`

	// Split.

	// TestFraction is the share of rows held out for testing, in (0, 1).
	// With a time column the holdout is the latest rows, cut at the time
	// boundary nearest to TestFraction of them (rows sharing a time stay
	// together, the earlier boundary when two are equally near), so the
	// share held out can differ; the split line reports it. Ignored when
	// TestRows or AsOf chooses the test set. Default 0.2.
	TestFraction float64 `yaml:"test_fraction" json:"test_fraction" koanf:"test_fraction"`
	// TestRows is the path of a file of 0-based data-row indices (header
	// excluded), one per line, that form the test set. Default "".
	TestRows string `yaml:"test_rows" json:"test_rows" koanf:"test_rows"`
	// AsOf is a temporal cutoff date (YYYY-MM-DD or RFC 3339): train on rows
	// of TimeColumn before it, test on the rest. A date is compared with
	// each row's date as written (2021-01-01T00:00:00+02:00 is on
	// 2021-01-01), an RFC 3339 time with its instant. Default "" (none).
	AsOf string `yaml:"as_of" json:"as_of" koanf:"as_of"`
	// RefitAll refits the chosen model on the training and the test rows
	// once it has been scored on the test rows: the saved model then
	// learns from the newest rows too (on temporal data the test rows are
	// the latest), while its recorded metrics stay those of the fit on
	// the training rows only, judged on rows it had not seen. Ensembles
	// and per-segment models are not refitted (a warning says so).
	// Default false.
	RefitAll bool `yaml:"refit_all" json:"refit_all" koanf:"refit_all" hash:"omitempty"`
	// CVFolds is the number of cross-validation folds on the training part:
	// 0 means none (rank by the test metric), otherwise >= 2. Default 5.
	CVFolds int `yaml:"cv_folds" json:"cv_folds" koanf:"cv_folds"`
	// CV is the cross-validation scheme: auto, kfold, stratified,
	// timeseries or group. Default auto: timeseries (expanding window in
	// time order) when TimeColumn is set, else stratified for
	// classification and kfold otherwise. timeseries needs TimeColumn;
	// group (no segment in two folds) needs SegmentColumn or SegmentBy.
	CV CVMethod `yaml:"cv" json:"cv" koanf:"cv"`
	// CVGap is, for time-series CV, how many distinct times lie between
	// each fold's last training time and its first validation time: the
	// horizon at which the model is judged. Default 0.
	CVGap int `yaml:"cv_gap" json:"cv_gap" koanf:"cv_gap" hash:"omitempty"`

	// Models.

	// Models lists the model families to train: family names (ols, ridge,
	// logistic, tree, forest, extra_trees, gbdt) or the groups linear
	// (ols, ridge, logistic) and trees (tree, forest, gbdt). Default none:
	// every family but extra_trees that is applicable to the task.
	Models []string `yaml:"models" json:"models" koanf:"models"`
	// ModelParams overrides hyperparameters per family, e.g.
	// {gbdt: {max_depth: 6}}; under tuning a range ({low, high, log}) or
	// a list of candidates searches a parameter instead. The family
	// checks its own map (pipeline.CheckModelParams, before any data is
	// read). Default none.
	ModelParams map[string]map[string]any `yaml:"model_params" json:"model_params" koanf:"model_params"`
	// TargetTransform is how regression models see the target: none, log
	// (fit log(1+y), predict back), trend (tree, forest and gbdt fit y
	// minus a linear trend in the time column, fitted on their training
	// rows, and predict the trend plus their fit), or auto: each family is
	// cross-validated on y, on log(1+y) for a non-negative target with
	// skew >= 0.5, and with the trend when the folds are time-ordered, and
	// keeps the best (scored on y's own scale). A family's model_params
	// target_transform wins. Default auto.
	TargetTransform TargetTransform `yaml:"target_transform" json:"target_transform" koanf:"target_transform"`
	// Seed seeds every random choice. Default 42.
	Seed uint64 `yaml:"seed" json:"seed" koanf:"seed"`
	// Workers bounds parallelism; 0 means all cores. Results never depend
	// on it. Default 0.
	Workers int `yaml:"workers" json:"workers" koanf:"workers" hash:"-"`

	// Advanced features (AdvancedTrainingConfig, phase 1).

	// EnableAdvancedFeatures gates the temporal, market and interaction
	// feature stages. Default false.
	EnableAdvancedFeatures bool `yaml:"enable_advanced_features" json:"enable_advanced_features" koanf:"enable_advanced_features"`
	// EnableTemporalFeatures adds calendar, cyclical, lag and rolling
	// features when EnableAdvancedFeatures is on. Default true.
	EnableTemporalFeatures bool `yaml:"enable_temporal_features" json:"enable_temporal_features" koanf:"enable_temporal_features"`
	// EnableMarketFeatures adds per-segment aggregates and out-of-fold
	// target encoding when EnableAdvancedFeatures is on. Default true.
	EnableMarketFeatures bool `yaml:"enable_market_features" json:"enable_market_features" koanf:"enable_market_features"`
	// EnableInteractionFeatures adds pairwise products, ratios and crosses
	// when EnableAdvancedFeatures is on (expensive). Default false.
	EnableInteractionFeatures bool `yaml:"enable_interaction_features" json:"enable_interaction_features" koanf:"enable_interaction_features"`
	// CompareBasicFeatures also trains every family on the basic features
	// when advanced stages are on, and lets cross-validation choose between
	// the two variants, so that advanced features never displace a better
	// basic model. Off trains the advanced variant only. Default true.
	CompareBasicFeatures bool `yaml:"compare_basic_features" json:"compare_basic_features" koanf:"compare_basic_features"`
	// TemporalLags are the lags, in periods of TimeColumn, of the per-segment
	// lag features; each >= 1. Default [1, 2, 3, 12].
	TemporalLags []int `yaml:"temporal_lags" json:"temporal_lags" koanf:"temporal_lags"`
	// RollingWindows are the window lengths, in periods, of the per-segment
	// rolling statistics; each >= 2. Default [3, 6, 12].
	RollingWindows []int `yaml:"rolling_windows" json:"rolling_windows" koanf:"rolling_windows"`
	// MinPanelCoverage is the least share of periods, between a segment's
	// first and last, that must hold rows for per-segment lag and rolling
	// features: below it the data is no panel (house sales by
	// neighbourhood, say) and only calendar features are made; in [0, 1].
	// Default 0.8.
	MinPanelCoverage float64 `yaml:"min_panel_coverage" json:"min_panel_coverage" koanf:"min_panel_coverage"`
	// TemporalHorizon is how many periods ahead the rows to predict may lie
	// beyond the end of training, for per-segment history features (see
	// features.Temporal.Horizon): training rows then get history as stale
	// as a forecast that far ahead would have. 0 means automatic: how many
	// periods of the training part's time grid the test part reaches past
	// it (a stray time counts in its period). 1 means one-step history.
	// Default 0.
	TemporalHorizon int `yaml:"temporal_horizon" json:"temporal_horizon" koanf:"temporal_horizon"`
	// TargetEncodingSmoothing is the prior weight, in rows, that shrinks a
	// segment's target mean towards the global mean; >= 0. Default 10.
	TargetEncodingSmoothing float64 `yaml:"target_encoding_smoothing" json:"target_encoding_smoothing" koanf:"target_encoding_smoothing"`
	// InteractionTopK is how many top numeric features are paired for
	// interaction features; >= 2. Default 10.
	InteractionTopK int `yaml:"interaction_top_k" json:"interaction_top_k" koanf:"interaction_top_k"`
	// MaxInteractions caps the number of interaction features added; >= 1.
	// Default 20.
	MaxInteractions int `yaml:"max_interactions" json:"max_interactions" koanf:"max_interactions"`
	// SegmentBy names a column to train one model per value of; segments
	// with fewer than MinSegmentRows training rows use the global model.
	// Default "" (one global model).
	SegmentBy string `yaml:"segment_by" json:"segment_by" koanf:"segment_by"`
	// MinSegmentRows is the fewest training rows a segment needs for its own
	// model under SegmentBy; >= 1. Default 50.
	MinSegmentRows int `yaml:"min_segment_rows" json:"min_segment_rows" koanf:"min_segment_rows"`

	// Hyperparameter tuning (phase 2).

	// EnableHyperparameterTuning tunes each family's hyperparameters;
	// off means family defaults (plus ModelParams). Default false.
	EnableHyperparameterTuning bool `yaml:"enable_hyperparameter_tuning" json:"enable_hyperparameter_tuning" koanf:"enable_hyperparameter_tuning"`
	// UseOptuna selects the TPE sampler; off, or if TPE fails, tuning falls
	// back to grid search over a small default grid. Default true.
	UseOptuna bool `yaml:"use_optuna" json:"use_optuna" koanf:"use_optuna"`
	// MaxEvals is the trial budget per study, capped at 10 trials per
	// tuned parameter of the family (the log says when); >= 1. Default 50.
	MaxEvals int `yaml:"max_evals" json:"max_evals" koanf:"max_evals"`
	// TimeBudget is the wall-clock budget of tuning: the time spent in the
	// families' tuning studies, together (the final fits and test scoring
	// between studies do not count), each family stopping at its share.
	// It is a hard limit, unlike Optuna's timeout, which lets running
	// trials finish: no trial starts after a family's share is spent,
	// and a trial still running then is cut: recorded as failed
	// ("interrupted"), never as complete with the folds it scored, not
	// counted toward max_evals, and queued to run first, with the same
	// parameters, when the same configuration's study runs again (--resume
	// of an interrupted run, or a rerun with the cache off; a cached rerun
	// does not tune). Default 0 (no limit).
	TimeBudget Duration `yaml:"time_budget" json:"time_budget" koanf:"time_budget"`
	// FamilyBudget bounds each untuned family's cross-validation and
	// final fit on large data (at least 8,000 training rows): a family
	// gets FamilyBudget for up to a million training cells (rows ×
	// columns), in proportion beyond. A family whose estimated cost (the
	// CPU time of a fit on a 2,000-row sample, scaled by n log n, so that
	// other processes' load does not change the decision) exceeds its
	// budget is cross-validated on a subsample of each fold's training
	// rows (validated on all of them; the final fit sees every training
	// row), or not trained when even 2,000-row folds would not fit, with
	// the reason logged, in the warnings and on its leaderboard entry
	// (budget). Default 0 (no budget); production 20s.
	FamilyBudget Duration `yaml:"family_budget" json:"family_budget" koanf:"family_budget" hash:"omitempty"`
	// Pruner stops unpromising trials early: none, median or hyperband.
	// Default median.
	Pruner Pruner `yaml:"pruner" json:"pruner" koanf:"pruner"`
	// TuneStartupTrials is how many random trials TPE runs before it models
	// the search space; >= 0. Default 10.
	TuneStartupTrials int `yaml:"tune_startup_trials" json:"tune_startup_trials" koanf:"tune_startup_trials"`
	// TuneBatch is how many trials TPE proposes together (with a
	// constant liar, so that they differ) and evaluates side by side, for
	// workers on a queue; >= 0. 0 (auto) means one on the local executor
	// and the workers' total concurrency on a queue. A study is
	// reproducible for a given seed and batch size, so set it to repeat a
	// queued study elsewhere. Default 0.
	TuneBatch int `yaml:"tune_batch" json:"tune_batch" koanf:"tune_batch" hash:"omitempty"`
	// MetaLearning starts from past experiments on similar datasets (the
	// knowledge base of package meta): untuned families train with the
	// configuration that did best on the nearest known datasets instead
	// of static defaults, and tuning tries those configurations first. A
	// dataset far from every known one starts cold. Default false.
	MetaLearning bool `yaml:"meta_learning" json:"meta_learning" koanf:"meta_learning"`

	// Ensembles (phase 3).

	// EnableAdvancedEnsemble builds the enabled ensembles below and keeps
	// the best of them and the best single model by CV score; off means
	// the simple ensemble of EnsembleMethod. Default false.
	EnableAdvancedEnsemble bool `yaml:"enable_advanced_ensemble" json:"enable_advanced_ensemble" koanf:"enable_advanced_ensemble"`
	// UseStacking builds a stacking ensemble on out-of-fold predictions.
	// Default true.
	UseStacking bool `yaml:"use_stacking" json:"use_stacking" koanf:"use_stacking"`
	// UseVoting builds a voting ensemble (weighted average, soft vote).
	// Default true.
	UseVoting bool `yaml:"use_voting" json:"use_voting" koanf:"use_voting"`
	// UseSelection builds a greedy (Caruana) ensemble selection.
	// Default true.
	UseSelection bool `yaml:"use_selection" json:"use_selection" koanf:"use_selection"`
	// StackingPassthrough gives the stacking meta-learner the original
	// features beside the out-of-fold predictions. Default false.
	StackingPassthrough bool `yaml:"stacking_passthrough" json:"stacking_passthrough" koanf:"stacking_passthrough"`
	// EnsembleTopK is how many of the best models the simple ensemble
	// averages; >= 1 (1 keeps the best model alone). Default 3.
	EnsembleTopK int `yaml:"ensemble_top_k" json:"ensemble_top_k" koanf:"ensemble_top_k"`
	// EnsembleMethod is how the simple ensemble (without
	// EnableAdvancedEnsemble) combines the candidates: selection, greedy
	// ensemble selection with replacement over every candidate (Caruana
	// et al., 2004) on out-of-fold predictions; average, the equal average
	// of the EnsembleTopK best; or both, each ranked by CV beside the
	// single models. Near ties between them: under shuffled folds
	// selection leads when within one CV standard error of a leading
	// average (its CV is nested, the average's member choice is not);
	// under time-ordered folds the average is kept when within one CV
	// standard error of a leading selection; on binary tasks the entry
	// with the lowest CV log-loss among those within one CV AUC standard
	// error of the leader leads. Default both: on the meta corpus it beat
	// the average alone on 15 datasets, tied on 77 and lost on 3;
	// selection alone won more (37) but lost more (17) (see the README).
	EnsembleMethod EnsembleMethod `yaml:"ensemble_method" json:"ensemble_method" koanf:"ensemble_method"`

	// Production controls.

	// ForceProductionQuality turns the quality gates on: a best model below
	// a threshold fails the run and is not deployable. Default true.
	ForceProductionQuality bool `yaml:"force_production_quality" json:"force_production_quality" koanf:"force_production_quality"`
	// MinR2Threshold is the least test R² a regression model must reach;
	// a finite number at most 1. Default 0.75.
	MinR2Threshold float64 `yaml:"min_r2_threshold" json:"min_r2_threshold" koanf:"min_r2_threshold"`
	// MinBusinessAccuracy is the least business accuracy (percent of
	// predictions within 20% of the truth) a regression model must reach, in
	// [0, 100]. Default 70.
	MinBusinessAccuracy float64 `yaml:"min_business_accuracy" json:"min_business_accuracy" koanf:"min_business_accuracy"`
	// MinSegmentBusinessAccuracy is the same floor applied to every segment
	// of SegmentColumn, in [0, 100]. Default 0 (off).
	MinSegmentBusinessAccuracy float64 `yaml:"min_segment_business_accuracy" json:"min_segment_business_accuracy" koanf:"min_segment_business_accuracy"`
	// MaxLatency is the most a single-row prediction may take. Default 0
	// (off).
	MaxLatency Duration `yaml:"max_latency" json:"max_latency" koanf:"max_latency"`
	// BusinessRules are checked on the best model's test predictions on
	// every run and listed in the report; a failed rule marked gate fails
	// the run like a quality gate. See BusinessRule. Default none.
	BusinessRules []BusinessRule `yaml:"business_rules" json:"business_rules" koanf:"business_rules" hash:"omitempty"`

	// Evaluation and explanation.

	// MaxExplainRows caps the rows sampled for SHAP, LIME and partial
	// dependence; >= 0, 0 means all rows. Default 1000.
	MaxExplainRows int `yaml:"max_explain_rows" json:"max_explain_rows" koanf:"max_explain_rows"`
	// StripTrainingRows saves models without the sample of training rows
	// (100, of the input columns) they otherwise keep as the background
	// of raw-input explanations, for data that must not leave with a
	// model; such models explain one row against itself. Default false.
	StripTrainingRows bool `yaml:"strip_training_rows" json:"strip_training_rows" koanf:"strip_training_rows" hash:"omitempty"`
	// BiasVarianceRounds is the number of bootstrap rounds of the
	// bias–variance decomposition; 0 skips it, otherwise >= 2. Default 0.
	BiasVarianceRounds int `yaml:"bias_variance_rounds" json:"bias_variance_rounds" koanf:"bias_variance_rounds"`
	// ReportCurves adds the best single model family's learning curve
	// (train and validation score by training-set size) and validation
	// curve (score by one complexity parameter) to the run's report: a
	// dozen extra fits, so off by default. Default false.
	ReportCurves bool `yaml:"report_curves" json:"report_curves" koanf:"report_curves" hash:"-"`

	// Where runs go and how they report.

	// Store is the URL of the run store: sqlite://PATH (a relative PATH is
	// relative to the working directory, sqlite:///abs/path.db is absolute)
	// or redis://HOST:PORT/DB (rediss:// for TLS).
	// Default sqlite://.tabforge/tabforge.db.
	Store string `yaml:"store" json:"store" koanf:"store" hash:"-"`
	// RunLease is how long a running run's liveness lease lasts in the
	// store; its process renews it every third of that, and a reader shows
	// a running run whose lease expired as interrupted. Default 0: 15s.
	RunLease Duration `yaml:"run_lease" json:"run_lease" koanf:"run_lease" hash:"-"`
	// Cache memoises candidates and CV folds in the store, keyed by
	// everything that determines them, so an unchanged step is never
	// recomputed. Default true.
	Cache bool `yaml:"cache" json:"cache" koanf:"cache" hash:"-"`
	// StoreFallback falls back to the embedded SQLite store when a Redis
	// store is unreachable; off makes that an error. tabforge worker,
	// serve and watch never fall back: they wait for Redis instead (the
	// fallback holds nothing other processes write). Default true.
	StoreFallback bool `yaml:"store_fallback" json:"store_fallback" koanf:"store_fallback" hash:"-"`
	// Executor says where cross-validation folds run: local (this
	// process) or queue (tabforge worker processes through the NATS
	// JetStream server named by queue). Results never depend on it.
	// Default local.
	Executor ExecutorKind `yaml:"executor" json:"executor" koanf:"executor" hash:"-"`
	// Queue is the JetStream server of executor queue: embedded (a server
	// inside the driver on a free loopback port, printed for local
	// workers) or nats://HOST:PORT. Default embedded.
	Queue string `yaml:"queue" json:"queue" koanf:"queue" hash:"-"`
	// ExecutorFallback is what executor queue does when no worker is
	// connected: none (fail, saying so) or local (run in this process).
	// Default none.
	ExecutorFallback ExecutorFallback `yaml:"executor_fallback" json:"executor_fallback" koanf:"executor_fallback" hash:"-"`
	// Out is the directory saved models are written to.
	// Default .tabforge/models.
	Out string `yaml:"out" json:"out" koanf:"out" hash:"-"`
	// Artifacts is where registered model files and reports are stored: a
	// directory, file:///dir, mem:// (tests), or s3://, gs://, hdfs:// in
	// builds with those tags. Default .tabforge/artifacts.
	Artifacts string `yaml:"artifacts" json:"artifacts" koanf:"artifacts" hash:"-"`
	// LogFormat is text or json. Default text.
	LogFormat LogFormat `yaml:"log_format" json:"log_format" koanf:"log_format" hash:"-"`
	// LogLevel is debug, info, warn or error. Default info.
	LogLevel LogLevel `yaml:"log_level" json:"log_level" koanf:"log_level" hash:"-"`

	// Dashboard.

	// UITrustedProxies are the reverse proxies in front of the dashboard
	// (tabforge ui, serve --ui) and of tabforge serve's admin endpoints,
	// as addresses or CIDR ranges (10.0.0.0/8, ::1): a request whose direct peer is one of them counts its
	// admin-token guesses against the rightmost address of its
	// X-Forwarded-For header that is not one of them, the client the
	// nearest untrusted hop says it is; entries left of that one are
	// whatever the client sent and are never read. Every other request
	// counts against its peer, and no header is read. Default none: behind
	// a proxy every client shares the proxy's limit.
	UITrustedProxies []string `yaml:"ui_trusted_proxies" json:"ui_trusted_proxies" koanf:"ui_trusted_proxies" hash:"-"`
}

// Default returns a new Config holding every key's default, the values of
// the seed's AdvancedTrainingConfig for its flags. It is the "default"
// profile.
func Default() *Config {
	return &Config{
		Task:            TaskAuto,
		ReadMemoryLimit: MemoryAuto,
		MissingValues:   MissingValues{All: []string{"NA", "NaN", "nan", "null", "NULL", "N/A"}},
		TestFraction:    0.2,
		CVFolds:         5,
		CV:              CVAuto,
		TargetTransform: TargetAuto,
		Seed:            42,

		EnableTemporalFeatures:  true,
		EnableMarketFeatures:    true,
		CompareBasicFeatures:    true,
		TemporalLags:            []int{1, 2, 3, 12},
		RollingWindows:          []int{3, 6, 12},
		TargetEncodingSmoothing: 10,
		MinPanelCoverage:        0.8,
		InteractionTopK:         10,
		MaxInteractions:         20,
		MinSegmentRows:          50,

		UseOptuna:         true,
		MaxEvals:          50,
		Pruner:            PrunerMedian,
		TuneStartupTrials: 10,

		UseStacking:  true,
		UseVoting:    true,
		UseSelection: true,
		EnsembleTopK: 3,

		EnsembleMethod: EnsembleBoth,

		ForceProductionQuality: true,
		MinR2Threshold:         0.75,
		MinBusinessAccuracy:    70.0,

		MaxExplainRows: 1000,

		Store:            "sqlite://.tabforge/tabforge.db",
		StoreFallback:    true,
		Executor:         ExecutorLocal,
		Queue:            QueueEmbedded,
		ExecutorFallback: FallbackNone,
		Cache:            true,
		Out:              ".tabforge/models",
		Artifacts:        ".tabforge/artifacts",
		LogFormat:        LogText,
		LogLevel:         LogInfo,
	}
}

// Clone returns a deep copy of c: lists and maps are copied too.
func (c *Config) Clone() *Config {
	d := *c
	d.Drop = cloneSlice(c.Drop)
	d.MissingValues = c.MissingValues.clone()
	d.Models = cloneSlice(c.Models)
	d.TemporalLags = cloneSlice(c.TemporalLags)
	d.RollingWindows = cloneSlice(c.RollingWindows)
	d.BusinessRules = cloneRules(c.BusinessRules)
	d.UITrustedProxies = cloneSlice(c.UITrustedProxies)
	if c.Schema != nil {
		d.Schema = make(map[string]ColumnKind, len(c.Schema))
		for k, v := range c.Schema {
			d.Schema[k] = v
		}
	}
	if c.ModelParams != nil {
		d.ModelParams = make(map[string]map[string]any, len(c.ModelParams))
		for fam, params := range c.ModelParams {
			m := make(map[string]any, len(params))
			for k, v := range params {
				m[k] = cloneAny(v)
			}
			d.ModelParams[fam] = m
		}
	}
	return &d
}

// cloneSlice copies s, keeping an empty list apart from nil (an empty
// missing_values means something else than none given).
func cloneSlice[T any](s []T) []T {
	if s == nil {
		return nil
	}
	return append(make([]T, 0, len(s)), s...)
}

// cloneAny deep-copies the values YAML decoding produces.
func cloneAny(v any) any {
	switch v := v.(type) {
	case []any:
		out := make([]any, len(v))
		for i, e := range v {
			out[i] = cloneAny(e)
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, e := range v {
			out[k] = cloneAny(e)
		}
		return out
	}
	return v
}
