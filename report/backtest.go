package report

import (
	"fmt"
	"html/template"
	"strconv"
)

// Backtest is what a backtest page shows: strategies scored period by
// period (package continuous fills it).
type Backtest struct {
	Title   string
	Metric  string
	Periods []string // each period's start, in order
	Series  []BacktestSeries
}

// BacktestSeries is one strategy: a score a period (as Backtest.Periods),
// their mean and the training it cost.
type BacktestSeries struct {
	Name         string
	Scores       []float64
	Mean         float64
	TrainSeconds float64
	Trainings    int
}

// WriteBacktest writes b as one self-contained HTML page at path
// (atomically, the chart inlined as SVG): each strategy's metric over the
// periods, a summary table of means and training time, and the scores
// period by period.
func WriteBacktest(path string, b *Backtest) error {
	if b == nil || len(b.Periods) == 0 {
		return fmt.Errorf("report: no backtest periods")
	}
	title := b.Title
	if title == "" {
		title = "Backtest"
	}
	s := &section{ID: "backtest", Title: "Strategies over time"}
	s.Notes = []string{fmt.Sprintf("Test %s of each strategy's model on each period, %d periods from %s. Static trains once before the first period; continuous retrains before each period and promotes a challenger only when it beats the champion; always retrains and replaces the model every period.",
		b.Metric, len(b.Periods), b.Periods[0])}
	c := &chart{Title: b.Metric + " by period", XLabel: "period start", YLabel: b.Metric, Legend: bottomLeft, Categories: b.Periods}
	sum := table{Caption: "Summary", Head: []string{"strategy", "mean " + b.Metric, "trainings", "training seconds"}}
	per := table{Caption: "By period", Head: []string{"period"}}
	for i, sr := range b.Series {
		x := make([]float64, len(sr.Scores))
		for j := range x {
			x[j] = float64(j)
		}
		c.Series = append(c.Series, series{Name: sr.Name, Kind: line, X: x, Y: sr.Scores, Color: colorAt(i)})
		sum.Rows = append(sum.Rows, []cell{{Text: sr.Name}, {Text: num(sr.Mean), Class: "num"},
			{Text: strconv.Itoa(sr.Trainings), Class: "num"}, {Text: strconv.FormatFloat(sr.TrainSeconds, 'f', 1, 64), Class: "num"}})
		per.Head = append(per.Head, sr.Name)
	}
	for j, p := range b.Periods {
		row := []cell{{Text: p}}
		for _, sr := range b.Series {
			row = append(row, cell{Text: num(sr.Scores[j]), Class: "num"})
		}
		per.Rows = append(per.Rows, row)
	}
	s.Charts = charts(c)
	for i := range s.Charts {
		s.Charts[i].SVG = template.HTML(s.Charts[i].chart.svg())
	}
	s.Tables = []table{sum, per}
	page, err := render(&Data{Title: title}, []*section{s})
	if err != nil {
		return err
	}
	return writeAtomic(path, page)
}
