package report

import (
	"encoding/json"
	"fmt"
	"sort"
)

func overviewSection(d *Data) *section {
	s := &section{ID: "data", Title: "Data overview"}
	o := d.Overview
	if o == nil || o.Rows == 0 {
		s.Missing = "no data description"
		return s
	}
	s.Notes = []string{fmt.Sprintf("%d rows, %d columns (the rows the run trained and tested on: %d train, %d test).", o.Rows, len(o.Columns), d.TrainRows, d.TestRows)}
	t := table{Caption: "Columns", Head: []string{"column", "type", "missing", "missing %", "distinct levels"}}
	for _, c := range o.Columns {
		name := c.Name
		if c.Target {
			name += " (target)"
		}
		distinct := txt("")
		if c.Kind == "categorical" {
			distinct = intc(c.Distinct)
		}
		share := numc(100 * float64(c.Missing) / float64(o.Rows))
		t.Rows = append(t.Rows, []cell{txt(name), txt(c.Kind), intc(c.Missing), share, distinct})
	}
	s.Tables = []table{t}
	if len(o.Target) == 0 {
		return s
	}
	cats := make([]string, len(o.Target))
	counts := make([]float64, len(o.Target))
	dist := table{Caption: "Target distribution", Head: []string{"class", "rows", "share %"}}
	for i, b := range o.Target {
		cats[i], counts[i] = b.Label, float64(b.Count)
		dist.Rows = append(dist.Rows, []cell{txt(b.Label), intc(b.Count), numc(100 * float64(b.Count) / float64(o.Rows))})
	}
	title, xl := "Target distribution: "+d.Target, "class"
	if d.regression() {
		title, xl = "Target histogram: "+d.Target, d.Target
	} else {
		s.Tables = append(s.Tables, dist)
	}
	c := &chart{File: "target_distribution", Title: title, XLabel: xl, YLabel: "rows", Categories: cats,
		Series: []series{{Kind: bars, Y: counts, Color: colorAt(0)}}}
	s.Charts = charts(c)
	return s
}

func paramsSection(d *Data) *section {
	s := &section{ID: "params", Title: "Parameters and configuration"}
	for _, e := range d.Leaderboard {
		if len(e.Params) == 0 {
			continue
		}
		caption := "Parameters of " + e.Model
		if e.Model == d.Best {
			caption += " (best)"
		}
		t := table{Caption: caption, Head: []string{"parameter", "value"}}
		keys := make([]string, 0, len(e.Params))
		for k := range e.Params {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			t.Rows = append(t.Rows, []cell{txt(k), txt(paramText(e.Params[k]))})
		}
		if e.Model == d.Best {
			s.Tables = append([]table{t}, s.Tables...)
		} else {
			s.Tables = append(s.Tables, t)
		}
	}
	s.Pre = d.Config
	if s.Pre != "" {
		s.Notes = []string{"The effective configuration below is what the run used: defaults, profile, config file, environment and --set merged. Saved as a file and passed with --config, it repeats the run."}
	}
	if len(s.Tables) == 0 && s.Pre == "" {
		s.Missing = "no parameters or configuration recorded"
	}
	return s
}

// paramText prints a parameter value: strings as they are, anything else
// as JSON.
func paramText(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}
