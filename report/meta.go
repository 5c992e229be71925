package report

import (
	"fmt"
	"maps"
	"slices"
	"strings"
)

// Meta is what meta-learning did in a run: the mode (zero-shot,
// warm-start or cold-start), why a run started cold, the nearest known
// datasets and the configurations taken from the knowledge base.
type Meta struct {
	Mode       string         `json:"mode"`
	Fallback   string         `json:"fallback,omitempty"`
	Known      int            `json:"known"`
	Nearest    float64        `json:"nearest,omitempty"`
	Threshold  float64        `json:"threshold,omitempty"`
	Rule       string         `json:"rule,omitempty"`
	Neighbours []MetaNeighbor `json:"neighbours,omitempty"`
	Tried      []MetaTried    `json:"tried,omitempty"`
}

// MetaNeighbor is a known dataset near the run's data.
type MetaNeighbor struct {
	Name     string  `json:"name"`
	Distance float64 `json:"distance"`
}

// MetaTried is a configuration from the knowledge base and how it fared:
// Rank is the family's place on the leaderboard for an untuned default
// (0 when unknown), Outcome says it in words.
type MetaTried struct {
	Family   string         `json:"family"`
	Use      string         `json:"use"`
	From     string         `json:"from"`
	Distance float64        `json:"distance"`
	Params   map[string]any `json:"params,omitempty"`
	Outcome  string         `json:"outcome,omitempty"`
}

// metaSection is the "meta-learning" section: absent for a run with
// meta_learning off.
func metaSection(d *Data) *section {
	s := &section{ID: "meta", Title: "Meta-learning"}
	m := d.Meta
	if m == nil {
		s.Missing = "meta_learning was off"
		return s
	}
	note := fmt.Sprintf("Mode: %s. %d known dataset(s) of this task", m.Mode, m.Known)
	if m.Known > 0 {
		note += fmt.Sprintf("; nearest at distance %s, far-from-known threshold %s (%s)", num(m.Nearest), num(m.Threshold), m.Rule)
	}
	s.Notes = append(s.Notes, note+".")
	if m.Fallback != "" {
		s.Notes = append(s.Notes, "Cold start: "+m.Fallback+".")
	}
	if len(m.Neighbours) > 0 {
		t := table{Caption: "Nearest known datasets", Head: []string{"dataset", "distance"}}
		for _, n := range m.Neighbours {
			t.Rows = append(t.Rows, []cell{txt(n.Name), numc(n.Distance)})
		}
		s.Tables = append(s.Tables, t)
	}
	if len(m.Tried) > 0 {
		t := table{Caption: "Configurations from the knowledge base", Head: []string{"family", "used as", "from", "distance", "parameters", "outcome"}}
		for _, c := range m.Tried {
			t.Rows = append(t.Rows, []cell{txt(c.Family), txt(c.Use), txt(c.From), numc(c.Distance), txt(metaParamText(c.Params)), txt(c.Outcome)})
		}
		s.Tables = append(s.Tables, t)
	}
	return s
}

// metaParamText renders parameters as k=v in key order.
func metaParamText(p map[string]any) string {
	if len(p) == 0 {
		return "family defaults"
	}
	parts := make([]string, 0, len(p))
	for _, k := range slices.Sorted(maps.Keys(p)) {
		v := p[k]
		if f, ok := v.(float64); ok {
			v = num(f)
		}
		parts = append(parts, fmt.Sprintf("%s=%v", k, v))
	}
	return strings.Join(parts, " ")
}
