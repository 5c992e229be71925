package continuous

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/tabforge/tabforge/frame"
)

// actual is one line of the actuals file: the outcome of a row, as
// written, and the line it is on.
type actual struct {
	text string
	line int
}

// actuals are the lines of the actuals file by the row they are of.
// Which of a row's lines are missing (not known yet) depends on the
// model that predicted it, so they are all kept until it is known.
type actuals map[rowKey][]actual

// known returns row k's actual, read with missing: ok is false when
// every line of it is missing (not known yet: a later line may bring
// it), and two known lines are an error.
func (a actuals) known(k rowKey, missing map[string]bool) (string, bool, error) {
	var got *actual
	for i, v := range a[k] {
		if missing[strings.TrimSpace(v.text)] {
			continue
		}
		if got != nil {
			// Which one is right is not ours to guess; the last used to
			// win silently.
			return "", false, fmt.Errorf("realised: actuals lines %d and %d: request %q row %d has two actuals", got.line, v.line, k.id, k.row)
		}
		got = &a[k][i]
	}
	if got == nil {
		return "", false, nil
	}
	return got.text, true, nil
}

// missingSet returns the texts read as missing by frame.ReadOptions.Missing
// tokens: nil means frame.DefaultMissing().
func missingSet(tokens []string) map[string]bool {
	if tokens == nil {
		tokens = frame.DefaultMissing()
	}
	m := make(map[string]bool, len(tokens))
	for _, t := range tokens {
		m[t] = true
	}
	return m
}

// actualReader reads the actuals of each model version's predictions
// with its missing texts, and remembers the rows whose actual is not
// known yet.
type actualReader struct {
	act     actuals
	o       RealiseOptions
	sets    map[[2]string]map[string]bool // by model and version
	pending map[rowKey]bool
	rep     *RealisedReport // for a warning that ModelMissing cannot answer
}

// known returns row k's actual as the version of model reads it (see
// actuals.known), noting a row not known yet as pending; ok is false
// for a row with no actual.
func (rd *actualReader) known(k rowKey, model, version string) (string, bool, error) {
	if _, ok := rd.act[k]; !ok {
		return "", false, nil
	}
	set, ok := rd.sets[[2]string{model, version}]
	if !ok {
		tokens := rd.o.Missing
		if rd.o.ModelMissing != nil {
			m, err := rd.o.ModelMissing(model, version)
			if errors.Is(err, ErrNoModelStore) {
				// No version's can be read: say so once, ask no more.
				rd.rep.Warnings = append(rd.rep.Warnings, err.Error())
				rd.o.ModelMissing, m, err = nil, nil, nil
			}
			if err != nil {
				return "", false, fmt.Errorf("realised: %s %s: %w", model, version, err)
			}
			if m != nil {
				tokens = m
			}
		}
		set = missingSet(tokens)
		rd.sets[[2]string{model, version}] = set
	}
	a, ok, err := rd.act.known(k, set)
	if err == nil && !ok {
		rd.pending[k] = true
	}
	return a, ok, err
}

// readActuals reads the actuals CSV into its lines by request and row.
func readActuals(r io.Reader, comma rune) (actuals, error) {
	br, err := frame.TextReader(r)
	if err != nil {
		return nil, fmt.Errorf("realised: actuals: %w", err)
	}
	if comma == 0 {
		comma = frame.DetectComma(br)
	}
	cr := csv.NewReader(br)
	cr.Comma = comma
	cr.FieldsPerRecord = -1
	head, err := cr.Read()
	if err != nil {
		return nil, fmt.Errorf("realised: actuals: %w", err)
	}
	col := func(name string) int { return slices.Index(head, name) }
	id, act, row := col("request_id"), col("actual"), col("row")
	if id < 0 || act < 0 {
		return nil, fmt.Errorf("realised: actuals: header %v; want request_id and actual (and optionally row)", head)
	}
	out := actuals{}
	for line := 2; ; line++ {
		rec, err := cr.Read()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("realised: actuals: %w", err)
		}
		if len(rec) <= max(id, act, row) {
			return nil, fmt.Errorf("realised: actuals line %d: %d fields; want %d", line, len(rec), len(head))
		}
		k := rowKey{id: rec[id]}
		if row >= 0 {
			if k.row, err = strconv.Atoi(rec[row]); err != nil || k.row < 0 {
				return nil, fmt.Errorf("realised: actuals line %d: row %q is not a row number", line, rec[row])
			}
		}
		out[k] = append(out[k], actual{text: rec[act], line: line})
	}
}
