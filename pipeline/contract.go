package pipeline

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/tabforge/tabforge/eval"
	"github.com/tabforge/tabforge/frame"
)

// maxContractLevels caps the training levels a categorical field keeps for
// the unseen-category check: an identifier-like column with more levels
// would bloat every saved model for a check that says little about it.
const maxContractLevels = 10000

// UnseenPolicy says what a model does with a category it never saw in
// training: the design encodes it as unknown (an all-zero one-hot, or the
// ordinal code -1 that trees send the missing-value way).
const UnseenPolicy = "encoded as unknown, like a missing value"

// Contract is what a saved model promises the code that reads it
// (predict, serve, drift, the UI): the inputs it takes, what it
// predicts, how well it did on holdout data, and where it came from.
type Contract struct {
	Inputs  []Field      `json:"inputs"`
	Target  Target       `json:"target"`
	Family  string       `json:"family"`
	Metrics eval.Metrics `json:"metrics,omitempty"`
	RunID   string       `json:"run_id,omitempty"`
	Dataset string       `json:"dataset,omitempty"` // content hash of the training data
	Lineage Lineage      `json:"lineage"`
}

// Lineage says where a saved model came from beyond its run and dataset.
type Lineage struct {
	Name       string    `json:"name,omitempty"` // the registered name it was trained for
	DataPath   string    `json:"data_path,omitempty"`
	ConfigHash string    `json:"config_hash,omitempty"`
	Trained    time.Time `json:"trained,omitzero"`
}

// Contract returns p's contract.
func (p *Predictor) Contract() Contract {
	return Contract{Inputs: p.Schema, Target: p.Target, Family: p.Family(), Metrics: p.Metrics,
		RunID: p.RunID, Dataset: p.Dataset, Lineage: p.Lineage}
}

// InputReport lists every way a batch of input rows departs from a
// predictor's input schema, so that one run reports all of them.
type InputReport struct {
	// Missing are schema columns absent from the data.
	Missing []string `json:"missing,omitempty"`
	// WrongType are schema columns present with values of another kind.
	WrongType []TypeProblem `json:"wrong_type,omitempty"`
	// Extra are data columns the model does not read; they are ignored.
	Extra []string `json:"extra,omitempty"`
	// Unseen are categorical columns with labels absent from training.
	Unseen []UnseenCategories `json:"unseen,omitempty"`
	// Policy is what the model does with unseen categories.
	Policy string `json:"unseen_policy,omitempty"`
	// Empty are schema columns missing on every row of a file of at
	// least two rows (ReadInput, and the predict stream; not a served
	// request, whose few rows may well lack a value).
	Empty []string `json:"empty,omitempty"`
}

// TypeProblem is a column whose values do not fit the trained kind.
type TypeProblem struct {
	Column string     `json:"column"`
	Want   frame.Kind `json:"want"`
	Got    frame.Kind `json:"got"`
	// Detail is the first offending value, when known.
	Detail string `json:"detail,omitempty"`
}

// UnseenCategories counts one column's rows whose label training never saw.
type UnseenCategories struct {
	Column string `json:"column"`
	Rows   int    `json:"rows"`
	// Labels are the first unseen labels in sorted order (at most 10).
	Labels   []string `json:"labels"`
	Distinct int      `json:"distinct"`
}

// InputError is a batch that a predictor cannot apply to: missing or
// mistyped columns, or under strict checking any extra column or unseen
// category. Report holds every problem found.
type InputError struct {
	Report *InputReport
	Strict bool
}

func (e *InputError) Error() string {
	r := e.Report
	var parts []string
	if len(r.Missing) > 0 {
		parts = append(parts, fmt.Sprintf("missing column(s) %s", quoteSome(r.Missing, maxListed))+nearNames(r.Missing, r.Extra)+wrongSeparator(r.Missing, r.Extra))
	}
	for _, t := range r.WrongType {
		s := fmt.Sprintf("column %q is %s, the model was trained on %s", t.Column, t.Got, t.Want)
		if t.Got == frame.Categorical && t.Want == frame.Numeric {
			s = fmt.Sprintf("column %q holds text where the model was trained on numbers", t.Column)
		}
		if t.Detail != "" {
			s += " (" + t.Detail + ")"
		}
		parts = append(parts, s)
	}
	if e.Strict {
		if len(r.Extra) > 0 {
			parts = append(parts, fmt.Sprintf("unknown column(s) %s", quoteAll(r.Extra)))
		}
		for _, u := range r.Unseen {
			parts = append(parts, u.String())
		}
	}
	return "input does not fit the model: " + strings.Join(parts, "; ")
}

// wrongSeparator points out a header read as one column whose name holds
// missing ones between separators: the file was read with the wrong
// --sep, and the list of every column as missing did not say so.
func wrongSeparator(missing, extra []string) string {
	if len(extra) != 1 || !strings.ContainsAny(extra[0], csvSeparators) {
		return ""
	}
	for _, m := range missing {
		if strings.Contains(extra[0], m) {
			return fmt.Sprintf(" (the header was read as a single column, though it holds %q: the file's separator is not the one read with; "+
				"leave --sep out to have it detected, or give the right one)", string(extra[0][strings.IndexAny(extra[0], csvSeparators)]))
		}
	}
	return ""
}

// nearNames points out the extra columns that are missing ones but for
// case or surrounding spaces (a header exported in lower case, say),
// which otherwise read as one list of missing names with no clue why.
func nearNames(missing, extra []string) string {
	var hints []string
	for _, m := range missing {
		for _, e := range extra {
			if strings.EqualFold(strings.TrimSpace(e), m) {
				hints = append(hints, fmt.Sprintf("%q for %q", e, m))
				break
			}
		}
	}
	if len(hints) == 0 {
		return ""
	}
	if len(hints) > 3 {
		hints = append(hints[:3], fmt.Sprintf("%d more", len(hints)-3))
	}
	return " (the data has " + strings.Join(hints, ", ") + ": column names must match exactly)"
}

func (u UnseenCategories) String() string {
	more := ""
	if u.Distinct > len(u.Labels) {
		more = fmt.Sprintf(" and %d more", u.Distinct-len(u.Labels))
	}
	return fmt.Sprintf("column %q has %d row(s) with categories unseen in training: %s%s", u.Column, u.Rows, quoteAll(u.Labels), more)
}

// maxListed is the most names a message lists: a request sending 3 of a
// model's 73 columns got a message of 70 names (the report lists all).
const maxListed = 20

// quoteSome is quoteAll of the first most names, counting the rest.
func quoteSome(names []string, most int) string {
	if len(names) <= most {
		return quoteAll(names)
	}
	return fmt.Sprintf("%s and %d more", quoteAll(names[:most]), len(names)-most)
}

// maxQuoted is the most bytes of one name a message quotes: a 2 MB cell
// made a 2 MB line of warning.
const maxQuoted = 80

func quoteAll(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		if len(n) > maxQuoted {
			cut := maxQuoted
			for cut > 0 && !utf8.RuneStart(n[cut]) {
				cut--
			}
			q[i] = fmt.Sprintf("%q… (%d bytes)", n[:cut], len(n))
			continue
		}
		q[i] = fmt.Sprintf("%q", n)
	}
	return strings.Join(q, ", ")
}

// Err returns the report as an *InputError when the rows cannot be used:
// always for missing or mistyped columns, and under strict checking also
// for extra columns and unseen categories. It returns nil otherwise.
func (r *InputReport) Err(strict bool) error {
	bad := len(r.Missing) > 0 || len(r.WrongType) > 0
	if strict {
		bad = bad || len(r.Extra) > 0 || len(r.Unseen) > 0
	}
	if !bad {
		return nil
	}
	return &InputError{Report: r, Strict: strict}
}

// Warnings are the report's tolerated problems in words, for a log.
func (r *InputReport) Warnings() []string {
	var out []string
	if len(r.Extra) > 0 {
		out = append(out, fmt.Sprintf("ignoring column(s) the model does not read: %s", quoteAll(r.Extra)))
	}
	for _, u := range r.Unseen {
		out = append(out, u.String()+"; "+r.Policy)
	}
	if len(r.Empty) > 0 {
		out = append(out, fmt.Sprintf("column(s) %s missing on every row: the model reads them as unknown throughout, "+
			"so its predictions rest on the other columns alone (a failed export or join?)", quoteAll(r.Empty)))
	}
	return out
}

// emptyColumns returns the columns of p's schema that x holds, of the
// schema's kind, missing on every one of its rows, when it has two or
// more: a column emptied by a failed export or join, which the model
// reads as unknown on every row, was predicted on without a word.
func (p *Predictor) emptyColumns(x *frame.Frame) []string {
	if x.NumRows() < 2 {
		return nil
	}
	var out []string
	for _, f := range p.Schema {
		c, ok := x.Lookup(f.Name)
		if ok && c.Kind == f.Kind && !hasValue(c) {
			out = append(out, f.Name)
		}
	}
	return out
}

// hasValue reports whether some row of c is not missing.
func hasValue(c *frame.Column) bool {
	for i := range c.Len() {
		if !c.IsMissing(i) {
			return true
		}
	}
	return false
}

// CheckInput compares x with p's input schema and returns every problem.
// A column of x whose kind differs from the schema's is a type problem;
// read data with ReadInput (or ReadSchema) to have numbers read as
// categories where the model expects categories.
func (p *Predictor) CheckInput(x *frame.Frame) *InputReport {
	r := &InputReport{}
	want := make(map[string]bool, len(p.Schema))
	for _, f := range p.Schema {
		want[f.Name] = true
		c, ok := x.Lookup(f.Name)
		switch {
		case !ok:
			r.Missing = append(r.Missing, f.Name)
		case c.Kind != f.Kind:
			r.WrongType = append(r.WrongType, TypeProblem{Column: f.Name, Want: f.Kind, Got: c.Kind})
		case f.Kind == frame.Categorical && f.Levels != nil:
			if u, ok := unseen(c, f.Levels); ok {
				r.Unseen = append(r.Unseen, u)
			}
		}
	}
	for _, c := range x.Columns() {
		if !want[c.Name] && c.Name != p.Target.Name {
			r.Extra = append(r.Extra, c.Name)
		}
	}
	if len(r.Unseen) > 0 {
		r.Policy = UnseenPolicy
	}
	return r
}

// unseen counts c's rows whose label is not among the sorted known levels.
func unseen(c *frame.Column, known []string) (UnseenCategories, bool) {
	rows, labels := unseenLabels(c, known)
	if rows == 0 {
		return UnseenCategories{Column: c.Name}, false
	}
	slices.Sort(labels)
	return UnseenCategories{Column: c.Name, Rows: rows, Labels: labels[:min(10, len(labels))], Distinct: len(labels)}, true
}

// unseenLabels returns the number of c's rows whose label is not among
// the sorted known levels, and those labels (each once, unsorted): all of
// them, for a stream that adds up a file's blocks.
func unseenLabels(c *frame.Column, known []string) (int, []string) {
	isNew := make([]bool, len(c.Levels))
	for code, l := range c.Levels {
		if _, found := slices.BinarySearch(known, l); !found {
			isNew[code] = true
		}
	}
	rows := 0
	var labels []string
	used := make([]bool, len(c.Levels))
	for _, code := range c.Codes {
		if code >= 0 && isNew[code] {
			rows++
			if !used[code] {
				used[code] = true
				labels = append(labels, c.Levels[code])
			}
		}
	}
	return rows, labels
}

// ReadInput reads a data file for p: the schema's kinds are pinned for
// the columns the file has, so that a category of digits still reads as
// a category, and every problem is gathered in the report instead of
// stopping at the first (a pinned column whose values do not parse is
// read again as inferred and reported as a type problem). The error is
// for an unreadable file; an unusable one is a report whose Err is set.
// Columns missing on every row are reported as Empty.
func (p *Predictor) ReadInput(path string, opts frame.ReadOptions) (*frame.Frame, *InputReport, error) {
	x, r, err := p.ReadInputFrom(func(o frame.ReadOptions) (*frame.Frame, error) { return frame.ReadFile(path, o) }, opts)
	if err != nil {
		return nil, nil, err
	}
	r.Empty = p.emptyColumns(x)
	return x, r, nil
}

// ReadInputFrom is ReadInput for data that read reads with the options
// it is given (it may be called again, with a column unpinned), such as
// frame.ReadCSV on a request body held in memory: the server and the
// CLI read rows the same way.
func (p *Predictor) ReadInputFrom(read func(frame.ReadOptions) (*frame.Frame, error), opts frame.ReadOptions) (*frame.Frame, *InputReport, error) {
	pinned := p.InputSchema()
	opts = p.ReadOptions(opts)
	opts.Schema, opts.SchemaOptional = pinned, true
	x, bad, err := readUnpinning(pinned, func([]TypeProblem) (*frame.Frame, error) { return read(opts) })
	if err != nil {
		return nil, nil, err
	}
	r := p.CheckInput(x)
	for i, t := range r.WrongType {
		// Prefer the parse error, which names the offending value.
		if j := slices.IndexFunc(bad, func(b TypeProblem) bool { return b.Column == t.Column }); j >= 0 {
			r.WrongType[i].Detail = bad[j].Detail
		}
	}
	return x, r, nil
}

// readUnpinning calls read until it returns something other than a parse
// error in a column pinned to the model's kind; each such column is
// unpinned (deleted from pinned, which read reads with) and read again:
// the rest may be fine, and the user should hear about every column at
// once. read is given the columns found mistyped so far, which it
// returns with read's last result.
func readUnpinning[T any](pinned map[string]frame.Kind, read func(bad []TypeProblem) (T, error)) (T, []TypeProblem, error) {
	var bad []TypeProblem
	for {
		v, err := read(bad)
		var pe *frame.ParseError
		if err != nil && errors.As(err, &pe) && pe.Column != "" {
			if k, ok := pinned[pe.Column]; ok {
				bad = append(bad, TypeProblem{Column: pe.Column, Want: k, Detail: pe.Error()})
				delete(pinned, pe.Column)
				continue
			}
		}
		return v, bad, err
	}
}

// contractLevels returns the sorted labels of c that occur in rows, or nil
// when there are more than maxContractLevels.
func contractLevels(c *frame.Column, rows []int) []string {
	seen := make([]bool, len(c.Levels))
	var out []string
	for _, r := range rows {
		if code := c.Codes[r]; code >= 0 && !seen[code] {
			seen[code] = true
			out = append(out, c.Levels[code])
		}
	}
	if len(out) > maxContractLevels {
		return nil
	}
	slices.Sort(out)
	return out
}
