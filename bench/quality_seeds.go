package bench

import (
	"fmt"
	"io"
	"slices"
	"text/tabwriter"

	"github.com/tabforge/tabforge/internal/stats"
)

// seedSummary is one dataset's quality runs over seeds: a seeded pick can
// turn on which of two models a few CV folds favour, so one seed's score
// says little about the defaults; the median and the range say more.
type seedSummary struct {
	name, metric string
	values       []float64 // the runs that did not fail, in run order
	runs         int
	reached      int // runs at least as good as the Optuna-TPE XGBoost row
	optuna       *PeerRow
}

// summarizeSeeds groups results by dataset, in the order datasets first
// appear.
func summarizeSeeds(rs []QualityResult) []*seedSummary {
	var out []*seedSummary
	by := map[string]*seedSummary{}
	for _, r := range rs {
		s := by[r.Name]
		if s == nil {
			s = &seedSummary{name: r.Name, metric: r.Metric}
			if r.Peers != nil {
				s.optuna = r.Peers.Optuna
			}
			by[r.Name] = s
			out = append(out, s)
		}
		s.runs++
		if r.Err == "" {
			s.values = append(s.values, r.Value)
		}
		if win, _ := r.Wins(); win {
			s.reached++
		}
	}
	return out
}

// median of the runs that did not fail.
func (s *seedSummary) median() (float64, bool) {
	if len(s.values) == 0 {
		return 0, false
	}
	return stats.Median(slices.Clone(s.values)), true
}

// wins reports whether the median reaches the Optuna-TPE XGBoost row, and
// whether there is one to compare with. A dataset with a failed run does
// not win: its median would hide the failure.
func (s *seedSummary) wins() (win, compared bool) {
	if s.optuna == nil {
		return false, false
	}
	m, ok := s.median()
	if !ok || len(s.values) < s.runs {
		return false, true
	}
	return !better(s.metric, s.optuna.Value, m), true
}

// printSeedSummary writes the table over seeds: per dataset the number of
// runs, the median, lowest and highest test metric, how many runs reach the
// Optuna-TPE XGBoost row, and whether the median does.
func printSeedSummary(w io.Writer, sums []*seedSummary) error {
	if _, err := fmt.Fprintln(w, "\nover seeds:"); err != nil {
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "dataset\tmetric\truns\tmedian\tlowest\thighest\tOptuna-TPE XGBoost\truns reaching it\tmedian wins\t")
	for _, s := range sums {
		med, lo, hi := "-", "-", "-"
		if m, ok := s.median(); ok {
			med = fmt.Sprintf("%.4f", m)
			lo = fmt.Sprintf("%.4f", slices.Min(s.values))
			hi = fmt.Sprintf("%.4f", slices.Max(s.values))
		}
		reached := "-"
		if s.optuna != nil {
			reached = fmt.Sprintf("%d of %d", s.reached, s.runs)
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\t%s\t%s\t%s\t%s\t\n", s.name, s.metric, s.runs, med, lo, hi,
			peerText(s.optuna), reached, verdict(s.wins()))
	}
	return tw.Flush()
}
