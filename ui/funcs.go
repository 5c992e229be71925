package ui

import (
	"encoding/json"
	"html/template"
	"math"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	metrics "github.com/tabforge/tabforge/eval"
)

// funcs are the templates' helpers. None returns template.HTML: every
// value reaches the page through html/template's escaping.
var funcs = template.FuncMap{
	"metric":   metricText,
	"metricp":  metricPtr,
	"metricof": metricOf,
	"folds":    metrics.FoldsText,
	"when":     when,
	"short":    short,
	"seconds":  seconds,
	"join":     strings.Join,
	"add":      func(a, b int) int { return a + b },
	"contains": slices.Contains[[]string],
	"bytes":    byteSize,
	"percent":  func(v float64) string { return strconv.FormatFloat(100*v, 'f', 1, 64) + "%" },
}

// byteSize prints a size in B, KiB or MiB.
func byteSize(n int64) string {
	switch {
	case n >= 1<<20:
		return strconv.FormatFloat(float64(n)/(1<<20), 'f', 1, 64) + " MiB"
	case n >= 1<<10:
		return strconv.FormatFloat(float64(n)/(1<<10), 'f', 1, 64) + " KiB"
	}
	return strconv.FormatInt(n, 10) + " B"
}

// metricText prints a metric to four decimals, "-" for NaN. Below 0.001
// and from 1e12 on it prints four significant digits instead: an RMSE of
// a target in small units would read 0.0000 for every model, and a MAPE
// over zero targets would fill the table with digits (as tabforge
// train's leaderboard).
func metricText(v float64) string {
	switch a := math.Abs(v); {
	case math.IsNaN(v):
		return "-"
	case a != 0 && a < 1e-3, a >= 1e12:
		return strconv.FormatFloat(v, 'g', 4, 64)
	}
	return strconv.FormatFloat(v, 'f', 4, 64)
}

// metricOf prints metric k of m, "-" where m has none. A template's
// `with index m k` would take a metric of exactly 0 for a missing one.
func metricOf(m map[string]float64, k string) string {
	v, ok := m[k]
	if !ok {
		return "-"
	}
	return metricText(v)
}

func metricPtr(v *float64) string {
	if v == nil {
		return "-"
	}
	return metricText(*v)
}

func when(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format("2006-01-02 15:04:05 MST")
}

// short cuts a hash to 12 characters. Not for run ids: theirs would be
// the date, hour and tens of minutes, the same for every run of a batch.
func short(s string) string {
	if len(s) > 12 {
		return s[:12]
	}
	return s
}

// seconds prints a duration in seconds, "-" when negative (unfinished).
func seconds(s float64) string {
	if s < 0 {
		return "-"
	}
	return (time.Duration(s*10) * time.Second / 10).String()
}

// withQuery returns path with u's query and the given overrides (pairs
// of key and value; an empty value removes the key), so links keep the
// page's filters: shareable URLs.
func withQuery(path string, u url.Values, kv ...string) string {
	q := url.Values{}
	for k, v := range u {
		q[k] = slices.Clone(v)
	}
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] == "" {
			q.Del(kv[i])
		} else {
			q.Set(kv[i], kv[i+1])
		}
	}
	if len(q) == 0 {
		return path
	}
	return path + "?" + q.Encode()
}

// flatten writes v's leaves to out under dotted keys (a.b.c); arrays and
// leaves are kept as compact JSON text, so two configs compare by text.
// The text keeps <, > and & as typed (json.Marshal writes \u003c for
// them): the page escapes it, and a data path data/a&b.csv must read so.
func flatten(prefix string, v any, out map[string]string) {
	if m, ok := v.(map[string]any); ok && len(m) > 0 {
		for k, sub := range m {
			key := k
			if prefix != "" {
				key = prefix + "." + k
			}
			flatten(key, sub, out)
		}
		return
	}
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		out[prefix] = "?"
		return
	}
	out[prefix] = strings.TrimSuffix(b.String(), "\n")
}

// flatConfig flattens a run's config JSON; an unreadable config gives one
// key saying so.
func flatConfig(raw []byte) map[string]string {
	out := map[string]string{}
	if len(raw) == 0 {
		return out
	}
	var v any
	dec := json.NewDecoder(strings.NewReader(string(raw)))
	dec.UseNumber()
	if err := dec.Decode(&v); err != nil {
		out["(config)"] = "unreadable: " + err.Error()
		return out
	}
	flatten("", v, out)
	return out
}
