package bench

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"text/tabwriter"
)

// FeatureVariant is one way of running the advanced feature stages.
type FeatureVariant struct {
	Name string
	Args []string // train flags that select it
}

// FeatureVariants are the three runs of the basic-vs-advanced comparison:
// the basic path, every family on advanced features only, and the default
// advanced run where each family's basic and advanced variants compete by
// cross-validation.
func FeatureVariants() []FeatureVariant {
	return []FeatureVariant{
		{"basic", []string{"--set", "enable_advanced_features=false"}},
		{"advanced", []string{"--set", "enable_advanced_features=true", "--set", "compare_basic_features=false"}},
		{"selected", []string{"--set", "enable_advanced_features=true", "--set", "compare_basic_features=true"}},
	}
}

// FeatureComparison holds the test metrics of each family under the basic
// and the advanced features, and the model cross-validation selects with
// and without advanced features.
type FeatureComparison struct {
	Metric   string
	Families []string
	// Test[variant][model] are test metrics per leaderboard entry.
	Test map[string]map[string]map[string]float64
	// Best[variant] is the leaderboard's first model.
	Best map[string]string
	Errs map[string]string
}

// Features runs `tabforge train` once per FeatureVariants entry with the
// same train flags and collects the leaderboards.
func Features(ctx context.Context, self string, trainArgs []string) (*FeatureComparison, error) {
	dir, err := os.MkdirTemp("", "tabforge-features-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	fc := &FeatureComparison{Test: map[string]map[string]map[string]float64{}, Best: map[string]string{}, Errs: map[string]string{}}
	for _, v := range FeatureVariants() {
		res, run := trainProcess(ctx, self, filepath.Join(dir, v.Name), append(append([]string{}, trainArgs...), v.Args...))
		if run.err != "" {
			fc.Errs[v.Name] = run.err
			continue
		}
		fc.Metric, fc.Best[v.Name] = res.metric(), res.Best
		fc.Test[v.Name] = map[string]map[string]float64{}
		for _, e := range res.Leaderboard {
			fc.Test[v.Name][e.Model] = e.Test
			if v.Name == "basic" {
				fc.Families = append(fc.Families, e.Model)
			}
		}
	}
	return fc, ctx.Err()
}

// PrintFeatures writes one line per family (basic vs advanced test metric
// and, for regression, within-20% accuracy) and one for the model
// cross-validation selects with basic features only and with both variants.
func PrintFeatures(w io.Writer, fc *FeatureComparison) error {
	for _, v := range FeatureVariants() { // in run order, not the map's
		if e, ok := fc.Errs[v.Name]; ok {
			fmt.Fprintf(w, "%s run failed: %s\n", v.Name, e)
		}
	}
	if len(fc.Errs) == len(FeatureVariants()) {
		return nil // no run to compare
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	m := fc.Metric
	fmt.Fprintf(tw, "model\tbasic %s\tadvanced %s\tchange\tbasic within20\tadvanced within20\t\n", m, m)
	cell := func(variant, model, key string) (float64, string) {
		t, ok := fc.Test[variant][model]
		if !ok {
			return 0, "-"
		}
		v, ok := t[key]
		if !ok {
			return 0, "-"
		}
		if key == "within20" {
			return v, fmt.Sprintf("%.2f", v)
		}
		return v, fmt.Sprintf("%.4f", v)
	}
	line := func(label, bv, bm, av, am string) {
		b, bs := cell(bv, bm, m)
		a, as := cell(av, am, m)
		change := "-"
		if bs != "-" && as != "-" {
			change = fmt.Sprintf("%+.4f", a-b)
		}
		_, bw := cell(bv, bm, "within20")
		_, aw := cell(av, am, "within20")
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t\n", label, bs, as, change, bw, aw)
	}
	for _, f := range fc.Families {
		line(f, "basic", f, "advanced", f)
	}
	line(fmt.Sprintf("best by CV (%s -> %s)", fc.Best["basic"], fc.Best["selected"]), "basic", fc.Best["basic"], "selected", fc.Best["selected"])
	return tw.Flush()
}
