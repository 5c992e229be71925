package bench

import (
	"context"
	"fmt"
	"io"
	"os"
	"text/tabwriter"
)

// CacheRun is one train process of the cache benchmark.
type CacheRun struct {
	Name    string
	Seconds float64
	Hits    int64
	Misses  int64
	Best    string
	Value   float64 // the best model's test metric
	Metric  string
	Err     string
}

// Cache runs `tabforge train` twice with the same flags against one fresh
// store, each in its own process: a cold run that computes every step and
// an identical rerun served from the step cache.
func Cache(ctx context.Context, self string, trainArgs []string) ([]CacheRun, error) {
	dir, err := os.MkdirTemp("", "tabforge-cache-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	var out []CacheRun
	for _, name := range []string{"cold", "cached"} {
		res, run := trainProcess(ctx, self, dir, trainArgs)
		r := CacheRun{Name: name, Seconds: run.seconds, Err: run.err}
		if r.Err == "" {
			r.Best, r.Metric = res.Best, res.metric()
			r.Value = res.Leaderboard[0].Test[r.Metric]
			if res.Cache != nil {
				r.Hits, r.Misses = res.Cache.Hits, res.Cache.Misses
			}
		}
		out = append(out, r)
	}
	return out, ctx.Err()
}

// PrintCache writes the two runs and the speed-up of the cached one.
func PrintCache(w io.Writer, rs []CacheRun) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "run\ttime s\tspeed-up\thits\tmisses\thit rate\tbest\ttest metric\t")
	for _, r := range rs {
		if r.Err != "" {
			fmt.Fprintf(tw, "%s\tfailed: %s\t\n", r.Name, r.Err)
			continue
		}
		rate := 0.0
		if r.Hits+r.Misses > 0 {
			rate = 100 * float64(r.Hits) / float64(r.Hits+r.Misses)
		}
		fmt.Fprintf(tw, "%s\t%.2f\t%.1fx\t%d\t%d\t%.0f%%\t%s\t%s %.4f\t\n", r.Name, r.Seconds, rs[0].Seconds/r.Seconds,
			r.Hits, r.Misses, rate, r.Best, r.Metric, r.Value)
	}
	return tw.Flush()
}
