package pipeline

import (
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"math"
	"os"
	"slices"
	"sort"
	"strings"

	"github.com/tabforge/tabforge/config"
	"github.com/tabforge/tabforge/features"
	"github.com/tabforge/tabforge/frame"
	"github.com/tabforge/tabforge/model"
)

// prepare loads the target, the features frame and the split.
func prepare(f *frame.Frame, cfg *config.Config, log *slog.Logger) (*prepared, error) {
	return prepareIn(f, cfg, "", log)
}

// prepareIn is prepare with cfg's relative input paths (test_rows) read
// from dir, "" for the working directory: a resumed run reads them where
// the run first did (see RunInputs).
func prepareIn(f *frame.Frame, cfg *config.Config, dir string, log *slog.Logger) (*prepared, error) {
	if err := checkColumns(f, cfg); err != nil {
		return nil, err
	}
	t, kept, times, err := trainingTable(f, cfg)
	if err != nil {
		return nil, err
	}
	var warnings []string
	if len(kept) < f.NumRows() {
		if cfg.TimeColumn != "" {
			log.Warn("dropped rows with a missing target or time", "rows", f.NumRows()-len(kept), "time_column", cfg.TimeColumn)
			warnings = append(warnings, fmt.Sprintf("%d of %d rows have no target or no time (%s) and were left out of training and test",
				f.NumRows()-len(kept), f.NumRows(), cfg.TimeColumn))
		} else {
			// As loud as the time case: a --json reader otherwise sees a
			// clean run on fewer rows.
			log.Warn("dropped rows with a missing target", "rows", f.NumRows()-len(kept))
			warnings = append(warnings, fmt.Sprintf("%d of %d rows have no target (%s) and were left out of training and test",
				f.NumRows()-len(kept), f.NumRows(), cfg.Target))
		}
	}
	if t.X.NumCols() == 0 {
		return nil, errors.New("no feature columns left after dropping the target and --drop columns")
	}
	for _, name := range idLikeFeatures(t.X, cfg) {
		log.Warn("identifier-like column used as a feature", "column", name)
		warnings = append(warnings, fmt.Sprintf("column %q has a different value in every row, like an identifier: what a model learns from it "+
			"does not carry over to new rows, whose values it never saw; leave it out with --drop %s", name, name))
	}
	if twins := spellingTwins(t.Classes); len(twins) > 0 {
		log.Warn("target classes spelt alike", "target", cfg.Target, "classes", twins)
		warnings = append(warnings, spellingTwinsWarning(cfg.Target, twins))
	}
	if t.Task == model.Regression && (cfg.Task == "" || cfg.Task == "auto") {
		if vals := codedClasses(t.Y); len(vals) > 2 {
			log.Warn("regression target with few whole values", "target", cfg.Target, "values", len(vals))
			warnings = append(warnings, codedClassesWarning(cfg.Target, vals))
		}
	}
	for _, name := range rowIDFeatures(t.X, cfg) {
		log.Warn("row-id-like column used as a feature", "column", name)
		warnings = append(warnings, rowIDWarning(name))
	}
	for _, c := range withoutRoles(constantColumns(t.X), cfg) {
		log.Warn("constant column used as a feature", "column", c)
		warnings = append(warnings, constantWarning(t.X, c))
	}
	for _, name := range targetCopies(t) {
		log.Warn("column reproduces the target", "column", name, "target", cfg.Target)
		warnings = append(warnings, targetCopyWarning(name, cfg.Target))
	}
	p := &prepared{x: t.X, task: t.Task, classes: t.Classes, y: t.Y, memo: &memo{}, warnings: warnings, dir: dir,
		table: tableID(t.X, kept, t.Y), kept: kept}
	if err := p.splitRows(f, cfg, kept, times); err != nil {
		return nil, err
	}
	if c, ok := p.soleClass(p.test); ok {
		log.Warn("test rows of a single class", "class", c, "test", len(p.test))
		p.warnings = append(p.warnings, soleTestClassWarning(p.split, c, len(p.classes)))
	}
	if none := p.classesWithTrainingRows(0); len(none) > 0 {
		log.Warn("classes without a training row", "classes", none, "train", len(p.train))
		p.warnings = append(p.warnings, untrainedClassWarning(none))
	}
	if lone := p.singleRowClasses(); len(lone) > 0 {
		log.Warn("classes with a single training row", "classes", lone, "train", len(p.train))
		p.warnings = append(p.warnings, singleRowWarning(lone))
	}
	return p, nil
}

// spellingTwins returns the groups of classes that differ only in case
// or surrounding spaces ("good", "Good", "good "), each as one string of
// its quoted labels: they are distinct classes, so a binary target
// written so trains as multiclass, and nothing said why.
func spellingTwins(classes []string) []string {
	groups := map[string][]string{}
	var keys []string
	for _, c := range classes {
		k := strings.ToLower(strings.TrimSpace(c))
		if _, ok := groups[k]; !ok {
			keys = append(keys, k)
		}
		groups[k] = append(groups[k], c)
	}
	var out []string
	for _, k := range keys {
		if g := groups[k]; len(g) > 1 {
			out = append(out, quoteAll(g))
		}
	}
	return out
}

// spellingTwinsWarning says which classes of target differ only in
// spelling and what to do.
func spellingTwinsWarning(target string, twins []string) string {
	const most = 5
	named := strings.Join(twins[:min(len(twins), most)], "; ")
	if len(twins) > most {
		named += fmt.Sprintf("; and %d more", len(twins)-most)
	}
	return fmt.Sprintf("target %q has classes that differ only in case or surrounding spaces (%s): they are learnt as different classes; "+
		"if each group is one class, write its labels alike", target, named)
}

// idLikeFeatures are the feature columns of x whose label is distinct in
// every row (features.IDLikeColumns), other than the columns cfg gives a
// role: a row id or a name. The peers drop them by hand; training keeps
// them, as the user gave them, but says so.
func idLikeFeatures(x *frame.Frame, cfg *config.Config) []string {
	if x.NumRows() < 2 {
		return nil
	}
	return withoutRoles(features.IDLikeColumns(x), cfg)
}

// rowIDFeatures are the feature columns of x numbered like rows
// (rowIDColumns), other than the columns cfg gives a role.
func rowIDFeatures(x *frame.Frame, cfg *config.Config) []string {
	return withoutRoles(rowIDColumns(x), cfg)
}

// withoutRoles returns names without the columns cfg gives a role.
func withoutRoles(names []string, cfg *config.Config) []string {
	roles := featureRoles(cfg)
	var out []string
	for _, name := range names {
		if !slices.Contains(roles, name) {
			out = append(out, name)
		}
	}
	return out
}

// featureRoles are the columns cfg gives a role besides the target: the
// segment columns and the parts of the time column.
func featureRoles(cfg *config.Config) []string {
	roles := []string{cfg.SegmentColumn, cfg.SegmentBy}
	for _, c := range strings.Split(cfg.TimeColumn, ",") {
		roles = append(roles, strings.TrimSpace(c))
	}
	return roles
}

// DetectTask resolves the task want names for target column c; "auto"
// (or "") reads it from c: a categorical target is binary or multiclass
// by its number of levels, a numeric one is regression unless it holds
// exactly two whole values (0/1, 1/2): a flag, as AutoGluon and H2O read
// it.
func DetectTask(c *frame.Column, want string) (model.Task, error) {
	if c.Kind == frame.Datetime {
		return "", fmt.Errorf("target column %q is a %s column; cannot learn it", c.Name, c.Kind)
	}
	if want != "" && want != "auto" {
		t, err := model.ParseTask(want)
		if err != nil {
			return "", err
		}
		if t == model.Regression && c.Kind != frame.Numeric {
			for i := range c.Len() {
				if !c.IsMissing(i) {
					return "", fmt.Errorf("target column %q is not numeric (row %d is %q): regression needs a numeric target; use --task binary or multiclass", c.Name, i+1, c.Label(i))
				}
			}
		}
		return t, nil
	}
	switch c.Kind {
	case frame.Numeric:
		if twoWholeValues(c.Num) {
			return model.Binary, nil
		}
		return model.Regression, nil
	case frame.Categorical:
		if example, ok := frame.NumberTextExample(c); ok {
			// Left to the levels' count, "$1,444" made a class of its
			// own per row: a model of nothing, trained without error.
			return "", fmt.Errorf("target column %q holds numbers written as text (e.g. %q), which read as %d class labels: write them as plain numbers (e.g. 1234.5) to learn a quantity, or pass --task multiclass (or binary) to learn them as classes", c.Name, example, len(c.Levels))
		}
		if len(c.Levels) <= 2 {
			return model.Binary, nil
		}
		return model.Multiclass, nil
	}
	return "", fmt.Errorf("target column %q is a %s column; cannot learn it", c.Name, c.Kind)
}

// twoWholeValues reports whether v (NaN = missing) holds exactly two
// distinct values, both whole numbers.
func twoWholeValues(v []float64) bool {
	a, b, n := math.NaN(), math.NaN(), 0
	for _, x := range v {
		switch {
		case math.IsNaN(x) || x == a || x == b:
			continue
		case x != math.Trunc(x) || n == 2:
			return false
		case n == 0:
			a = x
		default:
			b = x
		}
		n++
	}
	return n == 2
}

// maxTargetMagnitude bounds regression targets; see codeTarget.
const maxTargetMagnitude = 1e150

// codeTarget returns the target as float64 (NaN = missing) and, for
// classification, the class labels in index order. For binary tasks
// class 1 is the positive class: positive if given, else the usual
// positive label (yes, true, 1, ...) if present, else the rarer class.
func codeTarget(c *frame.Column, task model.Task, positive string) ([]float64, []string, error) {
	y := make([]float64, c.Len())
	if task == model.Regression {
		copy(y, c.Num)
		for i, v := range y {
			// The learners sum squared errors and gradients: past about
			// 1e150 those overflow, and a run "succeeds" on NaN splits.
			if math.Abs(v) > maxTargetMagnitude {
				return nil, nil, fmt.Errorf("target column %q row %d is %g: regression targets beyond ±%g overflow the squared errors learners sum; rescale the target", c.Name, i+1, v, maxTargetMagnitude)
			}
		}
		return y, nil, nil
	}
	labels := make([]string, c.Len())
	for i := range labels {
		if c.IsMissing(i) {
			continue
		}
		if c.Kind == frame.Categorical {
			labels[i] = c.Label(i)
		} else {
			labels[i] = frame.NumberLabel(c.Num[i])
		}
	}
	counts := map[string]int{}
	for _, l := range labels {
		if l != "" {
			counts[l]++
		}
	}
	classes := make([]string, 0, len(counts))
	for l := range counts {
		classes = append(classes, l)
	}
	sort.Strings(classes)
	if task == model.Multiclass && len(classes) == 2 {
		// Multiclass models of two classes would write one probability
		// per class where every binary metric and predictor reads one.
		return nil, nil, fmt.Errorf("target column %q has 2 classes; use --task binary", c.Name)
	}
	if task == model.Binary {
		if len(classes) > 2 {
			return nil, nil, fmt.Errorf("target column %q has %d classes; binary needs 2 (use --task multiclass)", c.Name, len(classes))
		}
		if len(classes) == 2 {
			if c.Kind != frame.Categorical {
				positive = numberPositive(positive)
			}
			pos, err := positiveClass(classes, counts, positive)
			if err != nil {
				return nil, nil, fmt.Errorf("target column %q: %w", c.Name, err)
			}
			if classes[0] == pos {
				classes[0], classes[1] = classes[1], classes[0]
			}
		}
	}
	index := make(map[string]float64, len(classes))
	for i, l := range classes {
		index[l] = float64(i)
	}
	for i, l := range labels {
		if l == "" {
			y[i] = math.NaN()
		} else {
			y[i] = index[l]
		}
	}
	return y, classes, nil
}

// numberPositive is the class label of a numeric target that the
// positive class names: the number it reads as, labelled by
// frame.NumberLabel, so that "1e+06" (the label of models and configs saved
// before class codes kept their digits), "1e6" and "1.0" name the classes
// "1000000" and "1" as the column holds them. Text that is no number is
// returned as it is.
func numberPositive(positive string) string {
	if v, ok := frame.ParseNumber(positive); ok {
		return frame.NumberLabel(v)
	}
	return positive
}

func positiveClass(classes []string, counts map[string]int, positive string) (string, error) {
	if positive != "" {
		if !slices.Contains(classes, positive) {
			return "", fmt.Errorf("positive class %q is not one of %q", positive, classes)
		}
		return positive, nil
	}
	for _, l := range classes {
		switch strings.ToLower(l) {
		case "yes", "true", "1", "positive", "pos", "bad", "churn", "default", "fraud":
			return l, nil
		}
	}
	if counts[classes[0]] < counts[classes[1]] {
		return classes[0], nil
	}
	return classes[1], nil
}

func intLabels(y []float64) []int {
	out := make([]int, len(y))
	for i, v := range y {
		out[i] = int(v)
	}
	return out
}

// schemaOf is the input schema of a model trained on the rows of x, with
// the categories those rows hold.
func schemaOf(x *frame.Frame, rows []int) []Field {
	out := make([]Field, x.NumCols())
	for i, c := range x.Columns() {
		out[i] = Field{Name: c.Name, Kind: c.Kind}
		if c.Kind == frame.Categorical {
			out[i].Levels = contractLevels(c, rows)
		}
	}
	return out
}

// schemaKinds converts the config's column kinds to frame kinds; the
// config has validated the names.
func schemaKinds(s map[string]config.ColumnKind) map[string]frame.Kind {
	if len(s) == 0 {
		return nil
	}
	out := make(map[string]frame.Kind, len(s))
	for col, k := range s {
		out[col], _ = frame.ParseKind(string(k))
	}
	return out
}

// ReadOptions are how cfg's data file is read, by train and by retrain,
// backtest and watch: its schema overrides, separator (validated with the
// config, so a bad one reads as detect), memory limit and missing-value
// texts.
func ReadOptions(cfg *config.Config) frame.ReadOptions {
	comma, _ := config.ParseSep(cfg.Sep)
	return frame.ReadOptions{Schema: schemaKinds(cfg.Schema), Comma: comma, MemoryLimit: ReadMemoryLimit(cfg),
		Missing: MissingTokens(cfg), ColumnMissing: ColumnMissing(cfg)}
}

// MissingTokens is frame.ReadOptions.Missing for cfg's missing_values:
// an empty field and each text of every column, or nil (frame's
// default) for a Config that gives none at all (one built by hand). A
// mapping without "*" keeps the default texts, spelled out, so that a
// model trained with it records them (see Predictor.ReadOptions).
func MissingTokens(cfg *config.Config) []string {
	switch {
	case cfg.MissingValues.All != nil:
		return append([]string{""}, cfg.MissingValues.All...)
	case len(cfg.MissingValues.Columns) > 0:
		return frame.DefaultMissing()
	}
	return nil
}

// ColumnMissing is frame.ReadOptions.ColumnMissing for cfg's
// missing_values: the texts of single columns, a copy (a model keeps
// it), or nil for none.
func ColumnMissing(cfg *config.Config) map[string][]string {
	if len(cfg.MissingValues.Columns) == 0 {
		return nil
	}
	out := make(map[string][]string, len(cfg.MissingValues.Columns))
	for col, texts := range cfg.MissingValues.Columns {
		out[col] = slices.Clone(texts)
	}
	return out
}

// ReadMemoryLimit is frame.ReadOptions.MemoryLimit for cfg's
// read_memory_limit: auto is frame's default (0), and 0 no limit.
func ReadMemoryLimit(cfg *config.Config) int64 {
	switch m := cfg.ReadMemoryLimit; m {
	case config.MemoryAuto:
		return 0
	case 0:
		return frame.NoMemoryLimit
	default:
		return int64(m)
	}
}

// ReadWarnings are the kind inferences reading data file path with opts
// gave f that a user would not expect: numbers written with digit
// grouping, decimal commas or signs, dates written in an order other than
// ISO 8601's, and numbers among a few placeholder texts, read as
// categories (see frame.NumberTexts, frame.DateTexts,
// frame.MixedNumberColumns).
// A Parquet file types its columns itself, so its string columns are
// categorical by the writer's choice.
func ReadWarnings(path string, f *frame.Frame, opts frame.ReadOptions) []string {
	if frame.IsParquetFile(path) {
		return nil
	}
	var out []string
	for _, n := range frame.NumberTexts(f, opts) {
		out = append(out, n.String())
	}
	for _, d := range frame.DateTexts(f, opts) {
		out = append(out, d.String())
	}
	for _, m := range frame.MixedNumberColumns(f, opts) {
		out = append(out, m.String())
	}
	return out
}

// checkColumns reports, in one error, every column the config names that
// the data lacks, so a user fixes them all in one go.
func checkColumns(f *frame.Frame, cfg *config.Config) error {
	var missing []MissingColumn
	need := func(key, col string) {
		if _, ok := f.Lookup(col); !ok {
			missing = append(missing, MissingColumn{Key: key, Column: col})
		}
	}
	need("target", cfg.Target)
	for _, d := range cfg.Drop {
		need("drop", d)
	}
	if cfg.TimeColumn != "" {
		for _, c := range strings.Split(cfg.TimeColumn, ",") {
			need("time_column", strings.TrimSpace(c))
		}
	}
	if cfg.SegmentColumn != "" {
		need("segment_column", cfg.SegmentColumn)
	}
	if cfg.SegmentBy != "" {
		need("segment_by", cfg.SegmentBy)
	}
	for _, col := range slices.Sorted(maps.Keys(cfg.MissingValues.Columns)) {
		need("missing_values", col)
	}
	var categorical []string
	for _, r := range cfg.BusinessRules {
		if r.Kind != config.RuleMonotonic {
			continue
		}
		// A rule whose feature is missing could only be found unchecked
		// after the whole run, failing its gate.
		need(fmt.Sprintf("business_rules %q feature", r.Name), r.Feature)
		if c, ok := f.Lookup(r.Feature); ok && c.Kind == frame.Categorical {
			categorical = append(categorical, fmt.Sprintf("rule %q: feature %q is categorical; monotonic rules need a numeric feature", r.Name, r.Feature))
		}
	}
	if len(missing) == 0 && len(categorical) == 0 {
		return nil
	}
	if len(missing) == 0 {
		return fmt.Errorf("business_rules: %s", strings.Join(categorical, "; "))
	}
	return &MissingColumnsError{Missing: missing, Columns: f.Names()}
}

// MissingColumn is a config key naming a column the data lacks.
type MissingColumn struct {
	Key    string // "target", "drop", "time_column", ...
	Column string
}

// MissingColumnsError reports every column the config names that the
// data lacks, with the columns it has, so that a caller can tell which
// key was wrong without reading the message.
type MissingColumnsError struct {
	Missing []MissingColumn
	Columns []string // the data's columns
}

func (e *MissingColumnsError) Error() string {
	oneHeader := e.oneHeader()
	names := make([]string, len(e.Missing))
	for i, m := range e.Missing {
		names[i] = fmt.Sprintf("%s %q", m.Key, m.Column)
		if near := config.Closest(m.Column, e.Columns); near != "" && !oneHeader {
			names[i] += fmt.Sprintf(" (did you mean %q?)", near)
		}
	}
	msg := fmt.Sprintf("%d column(s) not found in the data: %s (columns: %s)", len(e.Missing), strings.Join(names, ", "), strings.Join(e.Columns, ", "))
	if oneHeader {
		msg += fmt.Sprintf("; the header was read as a single column, though it holds %q: the file's separator is not the one read with; "+
			"leave --sep out to have it detected, or give the right one", string(e.Columns[0][strings.IndexAny(e.Columns[0], csvSeparators)]))
	}
	return msg
}

// csvSeparators are the separators the CSV reader detects.
const csvSeparators = ",;\t|"

// oneHeader reports whether the data has a single column whose name
// holds a separator: a file read with the wrong --sep (";" on a comma
// file), whose whole header line is then one name, which the error
// offered as the target the user must have meant.
func (e *MissingColumnsError) oneHeader() bool {
	return len(e.Columns) == 1 && strings.ContainsAny(e.Columns[0], csvSeparators)
}

// checkWritable makes sure the model directory can be written before any
// training, so an unwritable --out fails in milliseconds, not after the
// whole run.
func checkWritable(dir string) error {
	if dir == "" {
		return nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("output directory %s: %w", dir, err)
	}
	f, err := os.CreateTemp(dir, ".writable-*")
	if err != nil {
		return fmt.Errorf("output directory %s is not writable: %w", dir, err)
	}
	f.Close()
	return os.Remove(f.Name())
}
