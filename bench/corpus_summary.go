package bench

import (
	"fmt"
	"io"
	"math"
	"strings"
	"text/tabwriter"

	"github.com/tabforge/tabforge/eval"
)

// VariantSummary compares one variant with the first (the baseline) over
// the datasets where both ran: Delta is oriented so that a positive value
// is better (a log-loss difference is negated), and a difference of at
// most the tie margin is a tie.
type VariantSummary struct {
	Variant   string  `json:"variant"`
	Wins      int     `json:"wins"`
	Ties      int     `json:"ties"`
	Losses    int     `json:"losses"`
	Compared  int     `json:"compared"`   // datasets where both this variant and the baseline succeeded
	MeanDelta float64 `json:"mean_delta"` // 0 when none compared
	Seconds   float64 `json:"seconds"`    // total wall time of the variant's runs
	Failures  int     `json:"failures"`
}

// Summarize counts each variant's wins, ties and losses against the first
// variant, datasets by dataset (a tie when the metrics differ by at most
// tie), and its mean oriented delta, total time and failed runs.
func Summarize(ds []CorpusDataset, variants []Variant, tie float64) []VariantSummary {
	out := make([]VariantSummary, len(variants))
	sums := make([]float64, len(variants))
	for j, v := range variants {
		out[j].Variant = v.Name
	}
	for _, d := range ds {
		if len(d.Runs) == 0 {
			continue
		}
		base := d.Runs[0]
		for j, r := range d.Runs {
			if j >= len(out) {
				break
			}
			s := &out[j]
			s.Seconds += r.Seconds
			if r.Err != "" {
				s.Failures++
				continue
			}
			if j == 0 || base.Err != "" {
				continue
			}
			delta := r.Value - base.Value
			if !eval.Higher(d.Metric) {
				delta = -delta
			}
			s.Compared++
			sums[j] += delta
			switch {
			case math.Abs(delta) <= tie:
				s.Ties++
			case delta > 0:
				s.Wins++
			default:
				s.Losses++
			}
		}
	}
	for j := range out {
		if out[j].Compared > 0 {
			out[j].MeanDelta = sums[j] / float64(out[j].Compared)
		}
	}
	return out
}

// PrintCorpus writes the per-dataset table (each variant's test metric
// and seconds), the summary against the first variant and the failures.
func PrintCorpus(w io.Writer, rep *CorpusReport) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	head := "dataset\ttask\tmetric\trows\t"
	for _, v := range rep.Variants {
		head += v.Name + "\ts\t"
	}
	fmt.Fprintln(tw, head)
	var failures []string
	for _, d := range rep.Datasets {
		line := fmt.Sprintf("%s\t%s\t%s\t%d\t", d.Name, d.Task, d.Metric, d.Rows)
		for _, r := range d.Runs {
			if r.Err != "" {
				line += fmt.Sprintf("failed\t%.1f\t", r.Seconds)
				failures = append(failures, fmt.Sprintf("  %s [%s]: %s", d.Name, r.Variant, r.Err))
				continue
			}
			line += fmt.Sprintf("%.4f\t%.1f\t", r.Value, r.Seconds)
		}
		fmt.Fprintln(tw, line)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(rep.Variants) == 0 {
		return nil
	}
	base := rep.Variants[0].Name
	fmt.Fprintf(w, "\nsummary vs %s (a tie is a difference of at most %g; delta > 0 is better, log-loss deltas negated):\n", base, rep.Tie)
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "variant\tflags\twins\tties\tlosses\tmean delta\ttotal s\tfailures\t")
	for i, s := range rep.Summary {
		flags := strings.TrimPrefix(rep.Variants[i].String(), rep.Variants[i].Name+"=")
		if i == 0 {
			fmt.Fprintf(tw, "%s\t%s\t-\t-\t-\t-\t%.1f\t%d\t\n", s.Variant, flags, s.Seconds, s.Failures)
			continue
		}
		md := "-"
		if s.Compared > 0 {
			md = fmt.Sprintf("%+.4f", s.MeanDelta)
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%d\t%s\t%.1f\t%d\t\n", s.Variant, flags, s.Wins, s.Ties, s.Losses, md, s.Seconds, s.Failures)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(failures) > 0 {
		fmt.Fprintf(w, "\nfailures (%d):\n%s\n", len(failures), strings.Join(failures, "\n"))
	}
	return nil
}
