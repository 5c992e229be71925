package store

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
)

// Change is one value that differs between two runs. A or B is "" when
// the key exists in one run only.
type Change struct {
	Key string `json:"key"`
	A   string `json:"a"`
	B   string `json:"b"`
}

// Diff lists what differs between runs a and b: config keys
// ("config.seed"), the best model ("best") and the leaderboard's metrics
// by model ("metrics.gbdt.cv.r2", "metrics.gbdt.test.rmse"), sorted by
// key. Timings and ids are left out: they differ between any two runs.
func Diff(a, b *Run) ([]Change, error) {
	fa, err := runFields(a)
	if err != nil {
		return nil, err
	}
	fb, err := runFields(b)
	if err != nil {
		return nil, err
	}
	var keys []string
	for k := range fa {
		keys = append(keys, k)
	}
	for k := range fb {
		if _, ok := fa[k]; !ok {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	var out []Change
	for _, k := range keys {
		if fa[k] != fb[k] {
			out = append(out, Change{Key: k, A: fa[k], B: fb[k]})
		}
	}
	return out, nil
}

func runFields(r *Run) (map[string]string, error) {
	out := map[string]string{"best": r.Best, "status": string(r.Status), "dataset_hash": r.DatasetHash}
	if len(r.Config) > 0 {
		var cfg any
		if err := json.Unmarshal(r.Config, &cfg); err != nil {
			return nil, fmt.Errorf("run %s config: %w", r.ID, err)
		}
		flatten(out, "config", cfg)
	}
	if len(r.Result) > 0 {
		var res struct {
			Leaderboard []struct {
				Model string         `json:"model"`
				CV    map[string]any `json:"cv"`
				Test  map[string]any `json:"test"`
				Error string         `json:"error"`
			} `json:"leaderboard"`
		}
		if err := json.Unmarshal(r.Result, &res); err != nil {
			return nil, fmt.Errorf("run %s result: %w", r.ID, err)
		}
		for _, e := range res.Leaderboard {
			flatten(out, "metrics."+e.Model+".cv", e.CV)
			flatten(out, "metrics."+e.Model+".test", e.Test)
			if e.Error != "" {
				out["metrics."+e.Model+".error"] = e.Error
			}
		}
	}
	return out, nil
}

// flatten writes v's leaves into out under dotted keys.
func flatten(out map[string]string, prefix string, v any) {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			flatten(out, prefix+"."+k, e)
		}
	case []any:
		b, _ := json.Marshal(x)
		out[prefix] = string(b)
	case float64:
		out[prefix] = strconv.FormatFloat(x, 'g', -1, 64)
	case nil:
		out[prefix] = "null"
	default:
		out[prefix] = fmt.Sprint(x)
	}
}
