package servebench

import (
	"fmt"
	"io"
	"text/tabwriter"
	"time"
)

// Print writes r as the tables of `tabforge bench serve`.
func Print(w io.Writer, r *Result) error {
	fmt.Fprintf(w, "model %s (%s), versions %s and %s; server in-process on 127.0.0.1, vegeta in the same process\n\n",
		r.Model, r.Family, short(r.Versions[0]), short(r.Versions[1]))
	fmt.Fprintln(w, "single rows (MLflow dataframe_split, POST /invocations):")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "rate/s\tduration\trequests\tsent/s\tp50\tp90\tp99\tmax\terrors\t")
	for _, x := range r.Rates {
		fmt.Fprintf(tw, "%d\t%s\t%d\t%.1f\t%s\t%s\t%s\t%s\t%d\t\n", x.Rate, x.Duration, x.Requests, x.Achieved,
			ms(x.P50), ms(x.P90), ms(x.P99), ms(x.Max), x.Errors)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, x := range r.Rates {
		if x.FirstError != "" {
			fmt.Fprintf(w, "  first error at %d/s: %s\n", x.Rate, x.FirstError)
		}
	}
	fmt.Fprintln(w)
	for _, b := range r.Batches {
		if len(b.Times) == 0 {
			fmt.Fprintf(w, "batch of %d rows (%s): all %d requests failed\n", b.Rows, b.Format, b.Errors)
			continue
		}
		med := b.Median()
		fmt.Fprintf(w, "batch of %d rows (%s, %.1f MB): median %s, min %s, max %s over %d runs (%.0f rows/s), %d errors\n",
			b.Rows, b.Format, float64(b.Bytes)/1e6, ms(med), ms(b.Times[0]), ms(b.Times[len(b.Times)-1]), len(b.Times),
			float64(b.Rows)/med.Seconds(), b.Errors)
	}
	s := r.Swap
	_, err := fmt.Fprintf(w, "\n%d clients, %d alternating promote/rollback swaps: %d requests, %d failed; %d of %d swaps served, max time to serve the new version %s\n",
		s.Clients, s.Swaps, s.Requests, s.Failed, s.Served, s.Swaps, ms(s.MaxServe))
	if err == nil && s.FirstError != "" {
		_, err = fmt.Fprintf(w, "  first failed request: %s\n", s.FirstError)
	}
	return err
}

// ms formats a duration in milliseconds with two decimals.
func ms(d time.Duration) string { return fmt.Sprintf("%.2fms", float64(d)/1e6) }

func short(v string) string { return v[:min(len(v), 12)] }
