package pipeline

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/tabforge/tabforge/config"
	"github.com/tabforge/tabforge/frame"
	"github.com/tabforge/tabforge/split"
)

// timeOrderedCV reports whether p's folds are expanding windows in time
// order, each validated on rows after its training rows.
func (p *prepared) timeOrderedCV() bool { return strings.HasPrefix(p.cv, cvTimeseriesPrefix) }

// cvTimeseriesPrefix starts the description of time-ordered folds.
const cvTimeseriesPrefix = "timeseries:"

// splitRows fills train, test and folds from the kept rows of f (their
// positions) and their time keys (nil without a time column). Row indices
// in a test-rows file refer to data rows of the file; rows not kept are
// skipped.
func (p *prepared) splitRows(f *frame.Frame, cfg *config.Config, kept []int, times []float64) error {
	h, err := p.holdout(f, cfg, kept, times)
	if errors.Is(err, split.ErrEmptySide) && times != nil {
		return fmt.Errorf("split %s leaves no training or no test rows: the data's time runs from %s to %s",
			p.split, describeTime(f, cfg.TimeColumn, kept, times, slices.Min(times)), describeTime(f, cfg.TimeColumn, kept, times, slices.Max(times)))
	}
	if err != nil {
		return fmt.Errorf("%s: %w", p.split, err)
	}
	if len(h.Train) == 0 || len(h.Test) == 0 {
		return fmt.Errorf("split: %s leaves %d training and %d test rows", p.split, len(h.Train), len(h.Test))
	}
	p.train, p.test = h.Train, h.Test
	p.times = times
	if c, ok := p.soleClass(p.train); ok {
		return fmt.Errorf("%s leaves training rows of a single class (%s) of the target's %d: a classifier needs at least two to learn from; use more rows or another split", p.split, c, len(p.classes))
	}
	if cfg.CVFolds < 2 {
		return nil
	}
	if len(p.train) < 2 {
		return fmt.Errorf("cross-validation needs at least 2 training rows; %s leaves %d (set cv_folds: 0 to train without it)", p.split, len(p.train))
	}
	k := min(cfg.CVFolds, len(p.train))
	p.folds, p.cv, err = cvFolds(p, cfg, split.Take(p.y, p.train), k)
	if err != nil {
		return fmt.Errorf("cross-validation folds: %w", err)
	}
	return nil
}

// holdout chooses the test rows, by the first that applies: a test-rows
// file, an as-of date, the latest share in time, a stratified or a plain
// random share; p.split describes the choice.
func (p *prepared) holdout(f *frame.Frame, cfg *config.Config, kept []int, times []float64) (split.Holdout, error) {
	n := len(kept)
	switch {
	case cfg.TestRows != "":
		p.split = "test rows from " + cfg.TestRows
		test, err := readTestRows(inDir(p.dir, cfg.TestRows), f.NumRows(), kept)
		if err != nil {
			return split.Holdout{}, err
		}
		return split.FromTestRows(n, test)
	case cfg.AsOf != "":
		p.split = "as of " + cfg.AsOf
		if times == nil {
			return split.Holdout{}, errors.New("as_of needs a time_column")
		}
		cut, err := config.ParseDate(cfg.AsOf)
		if err != nil {
			return split.Holdout{}, fmt.Errorf("as_of: %w", err)
		}
		key, err := asOfKey(f, cfg.TimeColumn, kept, times, cut, len(cfg.AsOf) == len(time.DateOnly))
		if err != nil {
			return split.Holdout{}, err
		}
		return split.AsOf(times, key)
	case times != nil:
		// Rows sharing a time stay on one side, so the share held out is
		// the nearest one a time boundary gives: say both.
		h, cut, err := split.TemporalFraction(times, cfg.TestFraction)
		if err != nil {
			p.split = fmt.Sprintf("temporal: last %s by %s", share(cfg.TestFraction), cfg.TimeColumn)
			return h, err
		}
		p.split = fmt.Sprintf("temporal: last %.1f%% by %s (%s asked; test from %s)", 100*float64(len(h.Test))/float64(n),
			cfg.TimeColumn, share(cfg.TestFraction), describeTime(f, cfg.TimeColumn, kept, times, cut))
		return h, nil
	case p.task.IsClassification():
		p.split = fmt.Sprintf("stratified random %s test", share(cfg.TestFraction))
		return split.StratifiedRandom(intLabels(p.y), cfg.TestFraction, cfg.Seed)
	}
	p.split = fmt.Sprintf("random %s test", share(cfg.TestFraction))
	return split.Random(n, cfg.TestFraction, cfg.Seed)
}

// readTestRows reads a test-rows file (data rows of the file, 0-based) and
// returns their positions among the kept rows; rows dropped for a missing
// target are skipped.
func readTestRows(path string, fileRows int, kept []int) ([]int, error) {
	rows, err := split.ReadRowsFile(path)
	if err != nil {
		return nil, err
	}
	pos := make(map[int]int, len(kept))
	for k, i := range kept {
		pos[i] = k
	}
	var test []int
	listed := make(map[int]bool, len(rows))
	for _, r := range rows {
		// Checked here, on the rows as the file numbers them: the split
		// sees positions among the kept rows, and named a duplicate by
		// its position, another number once a row lacked its target.
		if r < 0 || r >= fileRows {
			return nil, fmt.Errorf("row %d is out of range: the data has %d rows (0-%d)", r, fileRows, fileRows-1)
		}
		if listed[r] {
			return nil, fmt.Errorf("row %d is listed twice", r)
		}
		listed[r] = true
		if k, ok := pos[r]; ok {
			test = append(test, k)
		}
	}
	return test, nil
}

// cvFolds builds k folds over the training rows by the configured scheme
// and describes them.
func cvFolds(p *prepared, cfg *config.Config, ytr []float64, k int) ([]split.Fold, string, error) {
	method := cfg.CV.Resolve(p.task.IsClassification(), p.times != nil)
	switch method {
	case config.CVKFold:
		folds, err := split.KFold(len(p.train), k, true, cfg.Seed)
		return folds, fmt.Sprintf("kfold: %d shuffled folds", k), err
	case config.CVStratified:
		folds, err := split.StratifiedKFold(intLabels(ytr), k, cfg.Seed)
		return folds, fmt.Sprintf("stratified: %d shuffled folds", k), err
	case config.CVTimeSeries:
		if p.times == nil {
			return nil, "", errors.New("cv timeseries needs a time_column")
		}
		ttr := split.Take(p.times, p.train)
		note := ""
		// k expanding-window folds need k+1+gap distinct times: with fewer
		// (a few years of yearly data), fewer folds, and under cv auto
		// shuffled ones when not even two fit.
		if distinct := len(slices.Compact(slices.Sorted(slices.Values(ttr)))); distinct < k+1+cfg.CVGap {
			fit := distinct - 1 - cfg.CVGap
			if fit < 2 && cfg.CV == config.CVAuto {
				folds, err := split.KFold(len(p.train), k, true, cfg.Seed)
				return folds, fmt.Sprintf("kfold: %d shuffled folds (%s has %d distinct training times, too few for time-ordered folds)", k, cfg.TimeColumn, distinct), err
			}
			if fit >= 2 {
				note = fmt.Sprintf(" (%d asked; %s has %d distinct training times)", k, cfg.TimeColumn, distinct)
				k = fit
			}
		}
		// Times concentrated at a few values (most rows in the last years)
		// can make equal-size blocks collapse at ties: fewer folds then,
		// as above.
		folds, err := split.TimeSeriesGap(ttr, k, cfg.CVGap)
		for fit := k - 1; err != nil && fit >= 2; fit-- {
			if folds, err = split.TimeSeriesGap(ttr, fit, cfg.CVGap); err == nil {
				note = fmt.Sprintf(" (%d asked; %s's training times are too concentrated for more)", k, cfg.TimeColumn)
				k = fit
			}
		}
		if err != nil && cfg.CV == config.CVAuto {
			folds, err := split.KFold(len(p.train), k, true, cfg.Seed)
			return folds, fmt.Sprintf("kfold: %d shuffled folds (%s's training times are too concentrated for time-ordered folds)", k, cfg.TimeColumn), err
		}
		return folds, fmt.Sprintf(cvTimeseriesPrefix+" %d expanding-window folds in %s order, gap %d%s", k, cfg.TimeColumn, cfg.CVGap, note), err
	case config.CVGroup:
		col := cmp.Or(cfg.SegmentColumn, cfg.SegmentBy)
		c, ok := p.x.Lookup(col)
		if !ok {
			return nil, "", fmt.Errorf("cv group: column %q not found among the features", col)
		}
		groups := groupIDs(c, p.train)
		folds, err := split.GroupKFold(groups, k)
		return folds, fmt.Sprintf("group: %d folds, each %s in one fold", k, col), err
	}
	return nil, "", fmt.Errorf("cv: unknown method %q", method)
}

// groupIDs numbers the distinct labels of c over rows.
func groupIDs(c *frame.Column, rows []int) []int {
	ids := map[string]int{}
	out := make([]int, len(rows))
	for i, r := range rows {
		label := SegmentLabel(c, r)
		id, ok := ids[label]
		if !ok {
			id = len(ids)
			ids[label] = id
		}
		out[i] = id
	}
	return out
}

// TimeKey returns an orderable time value per row of f by the time
// column spec (one column, or several ordered lexicographically), NaN
// for a row missing any part: the order training splits by, for
// callers that hold rows out by time later (retrain).
func TimeKey(f *frame.Frame, spec string) ([]float64, error) {
	return timeKey(f, spec)
}

// timeKey returns an orderable time value per row, NaN for a row missing
// any part. spec is one column or a comma-separated list (such as
// "Year_Sold,Mo_Sold") ordered lexicographically, for data that stores a
// date in parts.
func timeKey(f *frame.Frame, spec string) ([]float64, error) {
	names := strings.Split(spec, ",")
	cols := make([]*frame.Column, len(names))
	for i, n := range names {
		c, ok := f.Lookup(strings.TrimSpace(n))
		if !ok {
			return nil, fmt.Errorf("time column %q not found", n)
		}
		if c.Kind == frame.Categorical {
			return nil, categoricalTimeError(c)
		}
		cols[i] = c
	}
	if len(cols) == 1 {
		return cols[0].Num, nil
	}
	// Rank the complete tuples so that the key keeps their lexicographic
	// order.
	key := make([]float64, f.NumRows())
	var order []int
	for r := range key {
		key[r] = math.NaN()
		if !slices.ContainsFunc(cols, func(c *frame.Column) bool { return math.IsNaN(c.Num[r]) }) {
			order = append(order, r)
		}
	}
	less := func(a, b int) int {
		for _, c := range cols {
			if c.Num[a] != c.Num[b] {
				if c.Num[a] < c.Num[b] {
					return -1
				}
				return 1
			}
		}
		return 0
	}
	slices.SortStableFunc(order, less)
	rankv := 0.0
	for i, r := range order {
		if i > 0 && less(order[i-1], r) != 0 {
			rankv++
		}
		key[r] = rankv
	}
	return key, nil
}

// describeTime shows the raw time value(s) of the first row whose time
// key equals key, e.g. "2009-07-01" or "Year_Sold=2009 Mo_Sold=7".
func describeTime(f *frame.Frame, spec string, kept []int, keys []float64, key float64) string {
	row := -1
	for k, v := range keys {
		if v == key {
			row = kept[k]
			break
		}
	}
	if row < 0 {
		return strconv.FormatFloat(key, 'g', -1, 64)
	}
	var parts []string
	names := strings.Split(spec, ",")
	for _, n := range names {
		c, _ := f.Lookup(strings.TrimSpace(n))
		// Whole numbers as written: a Unix time read "1.6193088e+09".
		s := frame.NumberLabel(c.Num[row])
		if c.Kind == frame.Datetime {
			// The date as written: 2021-03-01T00:00:00+02:00 is 1 March.
			s = time.Unix(int64(math.Floor(c.Local(row))), 0).UTC().Format("2006-01-02")
		}
		if len(names) > 1 {
			s = c.Name + "=" + s
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, " ")
}

// asOfKey turns an as-of date into a cutoff on the time key. A single
// datetime column is compared in Unix seconds, or, when the as-of is a
// date (civilDate) and the column has UTC offsets, by the civil date of
// each row, since 2021-01-01T00:00:00+02:00 is on 1 January although its
// instant is the evening before in UTC; numeric time parts (one
// column such as a year, or several ordered lexicographically such as
// Year_Sold,Mo_Sold) are compared, as a tuple, with the date's (year,
// month, day), and the cutoff is the key of the first time at or after it.
func asOfKey(f *frame.Frame, spec string, kept []int, keys []float64, cut time.Time, civilDate bool) (float64, error) {
	names := strings.Split(spec, ",")
	first, _ := f.Lookup(strings.TrimSpace(names[0]))
	if len(names) == 1 && first.Kind == frame.Datetime {
		if !civilDate || first.Offsets == nil {
			return float64(cut.Unix()), nil
		}
		key := math.Inf(1)
		for k, r := range kept {
			if first.Local(r) >= float64(cut.Unix()) && keys[k] < key {
				key = keys[k]
			}
		}
		return key, nil
	}
	if len(names) > 3 {
		return 0, fmt.Errorf("as_of with %d time columns: want a date column or at most 3 numeric parts (year, month, day)", len(names))
	}
	parts := []float64{float64(cut.Year()), float64(cut.Month()), float64(cut.Day())}[:len(names)]
	cols := make([]*frame.Column, len(names))
	for i, n := range names {
		c, _ := f.Lookup(strings.TrimSpace(n))
		if c.Kind != frame.Numeric {
			return 0, fmt.Errorf("as_of with time columns %s: %q is not numeric; give one date column or numeric year, month, day parts", spec, c.Name)
		}
		cols[i] = c
	}
	key := math.Inf(1)
	for k, r := range kept {
		atOrAfter := true
		for i, c := range cols {
			if c.Num[r] != parts[i] {
				atOrAfter = c.Num[r] > parts[i]
				break
			}
		}
		if atOrAfter && keys[k] < key {
			key = keys[k]
		}
	}
	return key, nil
}

// categoricalTimeError explains why a time column was read as text: it
// names the first value that is not a date, when any value is a date,
// so that one bad cell in a column of dates is found without a search.
func categoricalTimeError(c *frame.Column) error {
	first, bad, dates, n := -1, -1, 0, 0
	for i := range c.Len() {
		if c.IsMissing(i) {
			continue
		}
		n++
		if first < 0 {
			first = i
		}
		if _, ok := frame.ParseDatetime(c.Label(i)); ok {
			dates++
		} else if bad < 0 {
			bad = i
		}
	}
	const want = "want dates (2006-01-02 or RFC 3339) or numbers"
	switch {
	case n == 0:
		return fmt.Errorf("time column %q has no values", c.Name)
	case dates == n:
		// Every value is a date, kept as text: a Parquet string column,
		// or a schema entry making the column categorical.
		return fmt.Errorf("time column %q holds dates as text (a string column of a Parquet file, or a schema entry making it categorical); "+
			"read it as dates with --set 'schema={%s: datetime}'", c.Name, c.Name)
	case dates > 0:
		// Half the values dates or fewer (ISO dates among US ones) still
		// names a value that is not one: row 1 could be a good date.
		return fmt.Errorf("time column %q is read as text: row %d %q is not a date (%d of %d values are); %s", c.Name, bad+1, c.Label(bad), dates, n, want)
	}
	return fmt.Errorf("time column %q is read as text (row %d is %q); %s", c.Name, first+1, c.Label(first), want)
}

// share formats a fraction as a percentage with one decimal when it needs
// one: a test_fraction of 0.125 is "12.5%", not "12%"; 0.2 is "20%".
func share(f float64) string {
	return strings.TrimSuffix(fmt.Sprintf("%.1f", 100*f), ".0") + "%"
}

// singleRowClasses returns, in class order, the classes of a
// classification task that have exactly one row among the training rows.
func (p *prepared) singleRowClasses() []string {
	return p.classesWithTrainingRows(1)
}

// classesWithTrainingRows returns the classes of a classification task
// that exactly n training rows hold.
func (p *prepared) classesWithTrainingRows(n int) []string {
	if !p.task.IsClassification() {
		return nil
	}
	counts := make([]int, len(p.classes))
	for _, i := range p.train {
		if k := int(p.y[i]); k >= 0 && k < len(counts) {
			counts[k]++
		}
	}
	var out []string
	for k, c := range counts {
		if c == n {
			out = append(out, p.classes[k])
		}
	}
	return out
}

// untrainedClassWarning says that the classes only test rows hold are
// never learnt: the model still has an output for each, and their test
// rows count as errors, with nothing on the leaderboard saying why.
func untrainedClassWarning(classes []string) string {
	named := quoteSome(classes, 10)
	return fmt.Sprintf("class(es) %s have no training rows (only test rows hold them): no model learns them, "+
		"so each of their test rows is mispredicted; put some of their rows among the training rows, or drop them", named)
}

// soleClass returns the class every one of rows holds, if they hold one
// only, on a classification task.
func (p *prepared) soleClass(rows []int) (string, bool) {
	if !p.task.IsClassification() || len(rows) == 0 {
		return "", false
	}
	first := p.y[rows[0]]
	for _, i := range rows[1:] {
		if p.y[i] != first {
			return "", false
		}
	}
	if k := int(first); k >= 0 && k < len(p.classes) {
		return p.classes[k], true
	}
	return "", false
}

// soleTestClassWarning says what test rows of a single class c (of n)
// leave of the test metrics: the AUC is n/a on the leaderboard and the
// F1 of a binary task 0, with nothing saying why.
func soleTestClassWarning(split, c string, n int) string {
	return fmt.Sprintf("the test rows (%s) hold a single class (%s) of the target's %d: test AUC is undefined on them, "+
		"and the other test metrics say nothing of how the other classes are told apart; choose test rows of every class", split, c, n)
}

// singleRowWarning says why classes with one training row are a problem:
// a model learns a class from one example, stratified folds cannot put it
// in every fold (scikit-learn warns so too), and its recall and precision
// swing between 0 and 1 on a single prediction.
func singleRowWarning(classes []string) string {
	// Name a few: a table of ids as classes would list every row.
	named := quoteSome(classes, 10)
	return fmt.Sprintf("class(es) %s have a single row among the training rows: cross-validation cannot stratify them "+
		"(at most one fold tests each) and their metrics rest on one row, so they are noise; "+
		"gather more rows of them, or drop or merge them", named)
}
