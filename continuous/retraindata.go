package continuous

// What a retrain reads and writes beside training: the champion's recorded
// configuration, the newest rows it holds out, the new data's drift, and
// a model's scores on rows of a data file.

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/tabforge/tabforge/config"
	"github.com/tabforge/tabforge/drift"
	"github.com/tabforge/tabforge/frame"
	"github.com/tabforge/tabforge/internal/atomicfile"
	"github.com/tabforge/tabforge/pipeline"
	"github.com/tabforge/tabforge/registry"
	"github.com/tabforge/tabforge/split"
)

// championConfig is the champion's configuration, pointed at data.
func championConfig(champ *registry.Model, name, data string) (*config.Config, error) {
	cfg := config.Default()
	if len(champ.Config) == 0 {
		return nil, fmt.Errorf("retrain %s: version %s has no recorded configuration", name, champ.Version)
	}
	if err := json.Unmarshal(champ.Config, cfg); err != nil {
		return nil, fmt.Errorf("retrain %s: version %s's configuration: %w", name, champ.Version, err)
	}
	cfg.Data, cfg.Name, cfg.TestRows, cfg.AsOf = data, name, "", ""
	return cfg, nil
}

// driftReport compares the newest rows x with the champion's training
// data ref (championData) on the champion's input features (its time
// column left out), or returns nil without ref.
func driftReport(ctx context.Context, ref *frame.Frame, p *pipeline.Predictor, cfg *config.Config, x *frame.Frame) *drift.Report {
	if ref == nil {
		return nil
	}
	var cols []string
	for _, f := range p.Schema {
		if f.Name != cfg.Target && !timePart(cfg.TimeColumn, f.Name) {
			cols = append(cols, f.Name)
		}
	}
	r, err := drift.Compare(ctx, ref, x, drift.Options{Target: cfg.Target, Columns: cols})
	if err != nil {
		return nil
	}
	return r
}

// newestRows returns the indices of about the newest k of x's rows by the
// time column, or the last k rows in file order without one. Rows sharing
// a time are never split between the held-out rows and the rest: the cut
// goes to the time boundary nearest to k rows from the newest, the
// earlier one when two are equally near, as in split.Latest, so a few
// more or fewer than k rows may be held out. Splitting a tie would hand
// the challenger part of the newest period in file order, and file order
// within a period often follows something else (the label, an ID) that
// the models would learn as the period's effect; moving back to the start
// of the tied time instead held out far more than k rows when the times
// were years. With one time for every row, it is the last k rows.
func newestRows(x *frame.Frame, timeColumn string, k int) []int {
	key := timeValues(x, timeColumn)
	idx := orderBy(key, x.NumRows())
	n := len(idx)
	cut := n - k
	if key != nil && cut > 0 && cut < n {
		same := func(a, b int) bool {
			va, vb := key[idx[a]], key[idx[b]]
			return va == vb || (math.IsNaN(va) && math.IsNaN(vb))
		}
		if b, ok := split.NearestBoundary(cut, n, same); ok {
			cut = b
		}
	}
	out := slices.Clone(idx[cut:])
	slices.Sort(out)
	return out
}

// timeOrder returns the indices of x's rows from the oldest to the
// newest by the time column (ties and file order kept stable), or in
// file order.
func timeOrder(x *frame.Frame, timeColumn string) []int {
	return orderBy(timeValues(x, timeColumn), x.NumRows())
}

// orderBy returns the indices of n rows by key (missing times first,
// ties in file order), or in file order when key is nil.
func orderBy(key []float64, n int) []int {
	idx := make([]int, n)
	for i := range idx {
		idx[i] = i
	}
	if key != nil {
		slices.SortStableFunc(idx, func(a, b int) int {
			va, vb := key[a], key[b]
			switch {
			case va < vb || (math.IsNaN(va) && !math.IsNaN(vb)):
				return -1
			case va > vb || (!math.IsNaN(va) && math.IsNaN(vb)):
				return 1
			}
			return 0
		})
	}
	return idx
}

// timeValues returns x's orderable time per row by timeColumn (one
// column, or several such as "Year,Round" ordered lexicographically, as
// training orders them), or nil without a usable one: file order then.
// Retrain refuses new data whose time column does not resolve
// (checkTimeColumn), so nil there means the champion has none.
func timeValues(x *frame.Frame, timeColumn string) []float64 {
	if timeColumn == "" {
		return nil
	}
	key, err := pipeline.TimeKey(x, timeColumn)
	if err != nil {
		return nil
	}
	return key
}

// timePart reports whether name is the time column or one of its parts
// ("Year" of "Year,Round"): time always drifts, so drift leaves it out.
func timePart(timeColumn, name string) bool {
	for part := range strings.SplitSeq(timeColumn, ",") {
		if strings.TrimSpace(part) == name {
			return true
		}
	}
	return false
}

// checkTimeColumn says why data cannot be held out by the champion's
// time column: it lacks a part of it, or one does not read as dates or
// numbers. The newest rows in file order would otherwise be scored
// silently, and a file not sorted by time holds out arbitrary rows.
func checkTimeColumn(x *frame.Frame, timeColumn, data string) error {
	if timeColumn == "" {
		return nil
	}
	if _, err := pipeline.TimeKey(x, timeColumn); err != nil {
		return fmt.Errorf("%s: the champion's time column orders its newest rows: %w", data, err)
	}
	return nil
}

// writeRows writes the indices of rows to the file at path (a test rows
// file for the pipeline) and returns the path.
func writeRows(path string, rows []int) (string, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return "", fmt.Errorf("retrain: %w", err)
	}
	var b strings.Builder
	for _, r := range rows {
		b.WriteString(strconv.Itoa(r))
		b.WriteByte('\n')
	}
	if err := atomicfile.WriteFile(path, []byte(b.String())); err != nil {
		return "", fmt.Errorf("retrain: %w", err)
	}
	return path, nil
}

// scoreOn scores p on the rows idx of the data file (all when nil),
// into *score, and returns its outputs there for the paired comparison.
func scoreOn(p *pipeline.Predictor, data string, opts frame.ReadOptions, idx []int, metric string, score *float64) (*outputs, error) {
	x, rep, err := p.ReadInput(data, opts)
	if err == nil {
		err = rep.Err(false)
	}
	if err != nil {
		return nil, fmt.Errorf("on %s: %w", data, err)
	}
	if idx != nil {
		x = x.Take(idx)
	}
	out, err := predictRows(p, x)
	if err != nil {
		if idx != nil {
			err = inFile(err, idx)
		}
		return nil, fmt.Errorf("on %s: %w", data, err)
	}
	if *score, err = out.metric(metric, nil); err != nil {
		return nil, err
	}
	return out, nil
}
