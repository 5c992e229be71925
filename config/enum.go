package config

import "slices"

// Task is the kind of problem, or auto to detect it. Its non-auto values
// are spelled like model.Task's, so model.ParseTask(string(t)) converts.
type Task string

// Tasks.
const (
	TaskAuto       Task = "auto"
	TaskRegression Task = "regression"
	TaskBinary     Task = "binary"
	TaskMulticlass Task = "multiclass"
)

// CVMethod is a cross-validation scheme.
type CVMethod string

// Cross-validation schemes. CVAuto is CVTimeSeries when the data has a
// time column, else CVStratified for classification and CVKFold
// otherwise. CVGroup keeps each segment (segment_column, or segment_by)
// within one fold.
const (
	CVAuto       CVMethod = "auto"
	CVKFold      CVMethod = "kfold"
	CVStratified CVMethod = "stratified"
	CVTimeSeries CVMethod = "timeseries"
	CVGroup      CVMethod = "group"
)

// Resolve returns the scheme auto stands for given whether the task is a
// classification and whether the data is ordered in time (a time column
// is set): shuffled folds on temporal data let a model interpolate the
// future and reward it for that, so time-ordered folds are the default
// there. Other schemes are returned unchanged.
func (m CVMethod) Resolve(classification, temporal bool) CVMethod {
	if m != CVAuto {
		return m
	}
	if temporal {
		return CVTimeSeries
	}
	if classification {
		return CVStratified
	}
	return CVKFold
}

// TargetTransform is how regression models see the target.
type TargetTransform string

// Target transforms: TargetAuto lets cross-validation choose between
// none, log and (for trees, with time-ordered folds) trend per family.
const (
	TargetAuto  TargetTransform = "auto"
	TargetNone  TargetTransform = "none"
	TargetLog   TargetTransform = "log"
	TargetTrend TargetTransform = "trend"
)

// ColumnKind is a column type in a schema override.
type ColumnKind string

// Column kinds.
const (
	KindNumeric     ColumnKind = "numeric"
	KindCategorical ColumnKind = "categorical"
	KindDatetime    ColumnKind = "datetime"
)

// Pruner names a trial pruning rule.
type Pruner string

// Pruners.
const (
	PrunerNone      Pruner = "none"
	PrunerMedian    Pruner = "median"
	PrunerHyperband Pruner = "hyperband"
)

// EnsembleMethod names how the simple (not advanced) ensemble combines
// the candidates.
type EnsembleMethod string

// Ensemble methods.
const (
	EnsembleSelection EnsembleMethod = "selection"
	EnsembleAverage   EnsembleMethod = "average"
	EnsembleBoth      EnsembleMethod = "both"
)

// LogFormat is the format of structured logs.
type LogFormat string

// Log formats.
const (
	LogText LogFormat = "text"
	LogJSON LogFormat = "json"
)

// LogLevel is the least severe log level written.
type LogLevel string

// Log levels, as in log/slog.
const (
	LogDebug LogLevel = "debug"
	LogInfo  LogLevel = "info"
	LogWarn  LogLevel = "warn"
	LogError LogLevel = "error"
)

// ExecutorKind says where units of work run.
type ExecutorKind string

// Executors.
const (
	ExecutorLocal ExecutorKind = "local"
	ExecutorQueue ExecutorKind = "queue"
)

// QueueEmbedded is the queue value for a server inside the driver.
const QueueEmbedded = "embedded"

// ExecutorFallback is what a queue executor does without workers.
type ExecutorFallback string

// Executor fallbacks.
const (
	FallbackNone  ExecutorFallback = "none"
	FallbackLocal ExecutorFallback = "local"
)

// The allowed methods list each type's values in the order error messages
// show them.

func (Task) allowed() []string {
	return []string{string(TaskAuto), string(TaskRegression), string(TaskBinary), string(TaskMulticlass)}
}

func (CVMethod) allowed() []string {
	return []string{string(CVAuto), string(CVKFold), string(CVStratified), string(CVTimeSeries), string(CVGroup)}
}

func (TargetTransform) allowed() []string {
	return []string{string(TargetAuto), string(TargetNone), string(TargetLog), string(TargetTrend)}
}

func (ColumnKind) allowed() []string {
	return []string{string(KindNumeric), string(KindCategorical), string(KindDatetime)}
}

func (Pruner) allowed() []string {
	return []string{string(PrunerNone), string(PrunerMedian), string(PrunerHyperband)}
}

func (EnsembleMethod) allowed() []string {
	return []string{string(EnsembleBoth), string(EnsembleSelection), string(EnsembleAverage)}
}

func (LogFormat) allowed() []string { return []string{string(LogText), string(LogJSON)} }

func (LogLevel) allowed() []string {
	return []string{string(LogDebug), string(LogInfo), string(LogWarn), string(LogError)}
}

func (ExecutorKind) allowed() []string { return []string{string(ExecutorLocal), string(ExecutorQueue)} }

func (ExecutorFallback) allowed() []string {
	return []string{string(FallbackNone), string(FallbackLocal)}
}

// enum is implemented by the string types above.
type enum interface {
	~string
	allowed() []string
}

// checkEnum reports whether v is one of its type's allowed values, with a
// message naming them if not.
func checkEnum[E enum](v E) error {
	if slices.Contains(v.allowed(), string(v)) {
		return nil
	}
	return notOneOf(string(v), v.allowed())
}
