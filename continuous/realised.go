package continuous

import (
	"bufio"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/tabforge/tabforge/eval"
	"github.com/tabforge/tabforge/pipeline"
)

// Realised are a version's realised metrics on one day: its logged
// predictions joined with the actual outcomes that arrived later.
type Realised struct {
	Model   string             `json:"model"`
	Version string             `json:"version"`
	Day     string             `json:"day"` // of the prediction, UTC
	Rows    int                `json:"rows"`
	Metrics map[string]float64 `json:"metrics"`
	// Undefined names the metrics undefined on these rows, left out of
	// Metrics (JSON has no NaN): r2 of one row, mape when an actual is 0
	// (eval.UndefinedWhy says why).
	Undefined []string `json:"undefined,omitempty"`
}

// RealisedReport is the outcome of Realise.
type RealisedReport struct {
	// Predictions is the number of predicted rows in the log, Joined
	// those with an actual, Unmatched the actuals without a prediction,
	// Pending the actuals left out because they are missing (not known
	// yet: empty, or a missing-value token such as NA).
	Predictions int        `json:"predictions"`
	Joined      int        `json:"joined"`
	Unmatched   int        `json:"unmatched_actuals"`
	Pending     int        `json:"pending_actuals"`
	Groups      []Realised `json:"groups"`
	// Warnings say what the report could not take into account: model
	// versions' missing values that could not be read (ErrNoModelStore),
	// a last log line cut short by a server stopped while writing it; and
	// actuals that are none of their model's classes.
	Warnings []string `json:"warnings,omitempty"`
}

// logLine is the part of a line of the serving prediction log (`tabforge
// serve --prediction-log`) that Realise reads.
type logLine struct {
	RequestID   string          `json:"request_id"`
	Time        time.Time       `json:"time"`
	Model       string          `json:"model"`
	Version     string          `json:"version"`
	Predictions json.RawMessage `json:"predictions"`
}

// rowKey names one predicted row: a request and the row in it.
type rowKey struct {
	id  string
	row int
}

// RealiseOptions control how Realise reads the actuals.
type RealiseOptions struct {
	// Comma is the actuals' field separator; 0 detects it as the data
	// readers do.
	Comma rune
	// Missing are the texts an actual is missing as (frame.ReadOptions.Missing:
	// nil means frame.DefaultMissing()) where ModelMissing gives none, and
	// for actuals no prediction joins.
	Missing []string
	// ModelMissing, when set, returns the texts the given model version's
	// training data read as missing (pipeline.Predictor.Missing), which
	// the actuals of its predictions are read with, as train read its
	// target; nil texts fall back to Missing. An error stops Realise,
	// unless it wraps ErrNoModelStore.
	ModelMissing func(model, version string) ([]string, error)
}

// ErrNoModelStore, wrapped by an error of RealiseOptions.ModelMissing,
// says that no model version's missing texts can be read: the store that
// holds them is absent or unreachable. Realise then reads every actual
// with RealiseOptions.Missing and adds the error to the report's
// Warnings, rather than stopping: the log and the actuals are all the
// metrics need, and only a version trained with its own missing_values
// reads an actual differently.
var ErrNoModelStore = errors.New("model versions' missing_values cannot be read")

// Realise joins the prediction log with actuals, a CSV file with columns
// request_id and actual, and row (the 0-based row of a multi-row
// request; 0 when absent), and scores each model version per day:
// regression predictions get eval.Regression's metrics, class
// predictions (records with a "prediction" label) the accuracy. An
// actual that is missing (see RealiseOptions) is one not known yet: its
// row is left out and counted as pending.
func Realise(log, actuals io.Reader, o RealiseOptions) (*RealisedReport, error) {
	act, err := readActuals(actuals, o.Comma)
	if err != nil {
		return nil, err
	}
	rep := &RealisedReport{Groups: []Realised{}} // none scored is [], not null
	rd := &actualReader{act: act, o: o, sets: map[[2]string]map[string]bool{}, pending: map[rowKey]bool{}, rep: rep}
	groups, used, rows, err := joinLog(log, rd, rep)
	if err != nil {
		return nil, err
	}
	fallback := missingSet(o.Missing)
	var past []rowKey // actuals of logged requests, past their last row
	for k := range act {
		if used[k] || rd.pending[k] { // reached by a prediction
			continue
		}
		if _, ok, err := act.known(k, fallback); err != nil {
			return nil, err
		} else if ok {
			rep.Unmatched++
			if n, logged := rows[k.id]; logged && k.row >= n {
				past = append(past, k)
			}
		} else {
			rd.pending[k] = true
		}
	}
	if len(past) > 0 {
		rep.Warnings = append(rep.Warnings, pastLastRow(past, rows))
	}
	for k := range rd.pending {
		if !used[k] {
			rep.Pending++
		}
	}
	for _, g := range groups {
		if g.Rows == 0 {
			continue
		}
		if err := g.score(); err != nil {
			return nil, err
		}
		rep.Groups = append(rep.Groups, g.Realised)
		if g.strangers > 0 {
			rep.Warnings = append(rep.Warnings, fmt.Sprintf("%s %s on %s: %d of %d actuals are none of the model's classes (%s), such as %q; they count as wrong predictions: check their spelling",
				g.Model, g.Version, g.Day, g.strangers, g.Rows, strings.Join(g.classes, ", "), g.stranger))
		}
	}
	slices.SortFunc(rep.Groups, func(a, b Realised) int {
		return cmp.Or(strings.Compare(a.Model, b.Model), strings.Compare(a.Day, b.Day), strings.Compare(a.Version, b.Version))
	})
	return rep, nil
}

// realisedGroup gathers one version's joined rows of one day until they
// are scored: numeric predictions with their actuals, or the count of
// class predictions that were right.
type realisedGroup struct {
	Realised
	pred, y []float64
	hits    int
	// strangers counts the actuals that are none of the model's classes
	// (a misspelt "No" for "no", a 0/1 coding of yes/no): misses, which
	// Realise warns of, as a wrong accuracy would otherwise be silent.
	strangers int
	stranger  string   // the first of them
	classes   []string // the model's, as its log lines list them
}

// pastLastRow is the warning of actuals whose request the log holds but
// whose row it does not: most likely rows numbered from 1, which also
// joined every other actual of a multi-row request to the prediction of
// the row after its own, silently.
func pastLastRow(past []rowKey, rows map[string]int) string {
	slices.SortFunc(past, func(a, b rowKey) int { return cmp.Or(strings.Compare(a.id, b.id), a.row-b.row) })
	k := past[0]
	return fmt.Sprintf("%d actuals name a row their request does not have, such as row %d of request %s, which has %d row(s): "+
		"rows count from 0, a request's first row being row 0 (numbered from 1, the others were joined to the row after their own)",
		len(past), k.row, k.id, rows[k.id])
}

// joinLog reads the prediction log line by line and joins every
// predicted row with its known actual in rd, grouping the joined rows by
// model, version and day. It counts the log's predicted and joined rows
// in rep, and returns the groups (one per triple seen, joined rows or
// not), the actuals it used and the rows of each logged request.
func joinLog(log io.Reader, rd *actualReader, rep *RealisedReport) (map[[3]string]*realisedGroup, map[rowKey]bool, map[string]int, error) {
	groups := map[[3]string]*realisedGroup{}
	used := map[rowKey]bool{}
	rows := map[string]int{}
	sc := bufio.NewScanner(log)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	// serve writes the log through a buffer that flushes at any byte, so
	// a server killed between flushes leaves its last line cut short, with
	// no newline: that line is passed over with a warning, while a bad
	// line followed by others is damage and an error.
	unterminated := false
	sc.Split(func(data []byte, atEOF bool) (int, []byte, error) {
		adv, tok, err := bufio.ScanLines(data, atEOF)
		if atEOF && tok != nil && adv == len(data) && data[len(data)-1] != '\n' {
			unterminated = true
		}
		return adv, tok, err
	})
	for n := 1; sc.Scan(); n++ {
		if len(strings.TrimSpace(sc.Text())) == 0 {
			continue
		}
		var l logLine
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			if unterminated {
				rep.Warnings = append(rep.Warnings, fmt.Sprintf("prediction log line %d is cut short (no newline; the server stopped while writing it): left out", n))
				break
			}
			return nil, nil, nil, fmt.Errorf("realised: prediction log line %d: %w", n, err)
		}
		vals, labels, err := decodePredictions(l.Predictions)
		if err != nil {
			return nil, nil, nil, fmt.Errorf("realised: prediction log line %d: %w", n, err)
		}
		var classes []string // the model's, listed by its records
		if labels != nil {
			classes = logClasses(l.Predictions)
		}
		day := l.Time.UTC().Format(time.DateOnly)
		g := groups[[3]string{l.Model, l.Version, day}]
		if g == nil {
			g = &realisedGroup{Realised: Realised{Model: l.Model, Version: l.Version, Day: day}}
			groups[[3]string{l.Model, l.Version, day}] = g
		}
		rows[l.RequestID] = max(rows[l.RequestID], len(vals), len(labels))
		for r := range max(len(vals), len(labels)) {
			rep.Predictions++
			a, ok, err := rd.known(rowKey{l.RequestID, r}, l.Model, l.Version)
			if err != nil {
				return nil, nil, nil, err
			}
			if !ok {
				continue
			}
			k := rowKey{l.RequestID, r}
			used[k] = true
			rep.Joined++
			if err := g.join(l.RequestID, r, a, vals, labels, classes); err != nil {
				return nil, nil, nil, err
			}
		}
	}
	if err := sc.Err(); err != nil {
		return nil, nil, nil, fmt.Errorf("realised: prediction log: %w", err)
	}
	return groups, used, rows, nil
}

// join adds row r of request id, whose actual is a, to g: a class
// prediction (labels) counts a hit, or a stranger when a is none of the
// model's classes; a numeric prediction (vals) keeps its value beside a's,
// which must then be a finite number.
func (g *realisedGroup) join(id string, r int, a string, vals []float64, labels, classes []string) error {
	g.Rows++
	if labels != nil {
		if sameClass(classes, labels[r], a) {
			g.hits++
		} else if classes != nil && !slices.ContainsFunc(classes, func(c string) bool { return pipeline.SameClass(classes, c, a) }) {
			if g.strangers++; g.strangers == 1 {
				g.stranger, g.classes = a, classes
			}
		}
		return nil
	}
	y, err := strconv.ParseFloat(a, 64)
	if err != nil {
		return fmt.Errorf("realised: actual %q of request %s is not a number, and its model predicts numbers", a, id)
	}
	if math.IsInf(y, 0) || math.IsNaN(y) {
		// Refused here, where the request is known: the metrics
		// would refuse it as "y[i]", naming no request.
		return fmt.Errorf("realised: actual %q of request %s row %d is not a finite number", a, id, r)
	}
	g.pred, g.y = append(g.pred, vals[r]), append(g.y, y)
	return nil
}

// score sets g's metrics from its joined rows: eval.Regression's finite
// metrics for numeric predictions, the accuracy for class predictions.
func (g *realisedGroup) score() error {
	g.Metrics = map[string]float64{}
	if g.y != nil {
		m, err := eval.Regression(g.y, g.pred)
		if err != nil {
			return fmt.Errorf("realised: %s %s on %s: %w", g.Model, g.Version, g.Day, err)
		}
		for _, k := range slices.Sorted(maps.Keys(m)) {
			if v := m[k]; !math.IsNaN(v) && !math.IsInf(v, 0) {
				g.Metrics[k] = v
			} else {
				g.Undefined = append(g.Undefined, k)
			}
		}
	} else {
		g.Metrics["accuracy"] = float64(g.hits) / float64(g.Rows)
	}
	return nil
}

// sameClass reports whether the actual a is the predicted class label
// pred of a model with classes (nil when the log does not list them) by
// training's rule (pipeline.SameClass): a model trained on a numeric
// target column labels its classes as frame.NumberLabel does, that
// column having read "1.0" and "01" as 1, so an actual written "1.0" (as
// pandas writes a float column) is the class "1"; one trained on text
// labels has "01" and "1" as two classes. Without the classes, pred's
// own form decides.
func sameClass(classes []string, pred, a string) bool {
	if classes == nil {
		classes = []string{pred}
	}
	return pipeline.SameClass(classes, pred, a)
}

// decodePredictions reads a log line's predictions: numbers (regression)
// or records with a "prediction" label (classification).
func decodePredictions(raw json.RawMessage) (vals []float64, labels []string, err error) {
	if err := json.Unmarshal(raw, &vals); err == nil {
		return vals, nil, nil
	}
	var recs []map[string]any
	if err := json.Unmarshal(raw, &recs); err != nil {
		return nil, nil, errors.New("predictions are neither numbers nor records")
	}
	labels = make([]string, len(recs))
	for i, r := range recs {
		labels[i] = fmt.Sprint(r["prediction"])
	}
	return nil, labels, nil
}

// logClasses returns the class labels a log line's prediction records
// list, as the keys of their probabilities (pipeline.ProbColumn), sorted;
// nil when they list none.
func logClasses(raw json.RawMessage) []string {
	var recs []map[string]json.RawMessage
	if json.Unmarshal(raw, &recs) != nil || len(recs) == 0 {
		return nil
	}
	var classes []string
	for k := range recs[0] {
		if c, ok := strings.CutPrefix(k, pipeline.ProbColumn("")); ok {
			classes = append(classes, c)
		}
	}
	slices.Sort(classes)
	return classes
}
