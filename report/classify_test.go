package report

import (
	"context"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tabforge/tabforge/eval"
)

// classData returns a seeded classification Data with k classes: binary
// Pred holds the probability of class 1, multiclass k per row.
func classData(k, n int) *Data {
	r := rand.New(rand.NewPCG(3, uint64(k)))
	d := &Data{Task: "binary", Target: "churn", Classes: []string{"no", "yes"}, TestRows: n}
	if k > 2 {
		d.Task, d.Classes = "multiclass", []string{"a", "b", "c"}[:k]
	}
	for range n {
		c := r.IntN(k)
		d.Test.Y = append(d.Test.Y, float64(c))
		if k == 2 {
			// Rounded to 0.05 so that ties and exact thresholds occur.
			p := math.Round(20*(0.3*float64(c)+0.7*r.Float64())) / 20
			d.Test.Pred = append(d.Test.Pred, p)
			continue
		}
		row := make([]float64, k)
		var sum float64
		for j := range row {
			row[j] = r.Float64()
			if j == c {
				row[j] += 0.8
			}
			sum += row[j]
		}
		for j := range row {
			d.Test.Pred = append(d.Test.Pred, row[j]/sum)
		}
	}
	return d
}

func sectionByID(secs []*section, id string) *section {
	for _, s := range secs {
		if s.ID == id {
			return s
		}
	}
	return nil
}

func TestClassificationSections(t *testing.T) {
	cases := []struct {
		name      string
		d         *Data
		threshold float64 // applied to binary data
		curves    int     // series per ROC chart; 0: section missing
		steps     int     // threshold table rows; 0: section missing
	}{
		{"binary", classData(2, 400), 0, 1, 9},
		{"binary threshold 0.35", classData(2, 400), 0.35, 1, 10},
		{"binary threshold 0.7", classData(2, 400), 0.7, 1, 9},
		{"multiclass", classData(3, 500), 0, 3, 0},
		{"regression", fullData(t), 0, 0, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d := c.d
			d.Threshold = c.threshold
			secs := sections(d)
			conf, roc, thr := sectionByID(secs, "confusion"), sectionByID(secs, "roc"), sectionByID(secs, "thresholds")
			if c.curves == 0 {
				if conf.Missing == "" || roc.Missing == "" || thr.Missing == "" {
					t.Fatalf("regression has classification sections")
				}
				return
			}
			checkConfusion(t, d, conf)
			if roc.Missing != "" || len(roc.Charts) != 2 {
				t.Fatalf("roc section: missing %q, %d charts", roc.Missing, len(roc.Charts))
			}
			for _, ch := range roc.Charts {
				if len(ch.chart.Series) != c.curves {
					t.Errorf("%s: %d curves; want %d", ch.chart.Title, len(ch.chart.Series), c.curves)
				}
			}
			if c.d.classes() == 2 {
				y := make([]int, len(d.Test.Y))
				for i, v := range d.Test.Y {
					y[i] = int(v)
				}
				auc, err := eval.ROCAUC(y, d.Test.Pred, 2, nil)
				if err != nil {
					t.Fatal(err)
				}
				if got := roc.Tables[0].Rows[0][1].Text; got != num(auc) {
					t.Errorf("ROC AUC in the table %s; eval.ROCAUC %s", got, num(auc))
				}
				if !strings.Contains(roc.Charts[0].chart.Series[0].Name, "AUC") || !strings.Contains(roc.Charts[1].chart.Series[0].Name, "AP") {
					t.Errorf("legends %q %q name no AUC/AP", roc.Charts[0].chart.Series[0].Name, roc.Charts[1].chart.Series[0].Name)
				}
			}
			if c.steps == 0 {
				if thr.Missing == "" {
					t.Error("threshold table for a multiclass task")
				}
				return
			}
			checkThresholds(t, d, thr, c.steps)
		})
	}
}

// checkConfusion recounts the confusion matrix from the predictions.
func checkConfusion(t *testing.T, d *Data, s *section) {
	t.Helper()
	if s.Missing != "" {
		t.Fatalf("confusion section missing: %s", s.Missing)
	}
	k := d.classes()
	want := make([][]int, k)
	for i := range want {
		want[i] = make([]int, k)
	}
	for i, v := range d.Test.Y {
		p := 0
		if k == 2 {
			if d.Test.Pred[i] > d.threshold() {
				p = 1
			}
		} else {
			for j := range k {
				if d.Test.Pred[i*k+j] > d.Test.Pred[i*k+p] {
					p = j
				}
			}
		}
		want[int(v)][p]++
	}
	rows := s.Tables[0].Rows
	if len(rows) != k {
		t.Fatalf("%d confusion rows; want %d", len(rows), k)
	}
	for a := range k {
		for p := range k {
			if got := rows[a][1+p].Text; got != intc(want[a][p]).Text {
				t.Errorf("confusion[%d][%d] = %s; want %d", a, p, got, want[a][p])
			}
		}
	}
}

// checkThresholds recounts the row of the threshold in use.
func checkThresholds(t *testing.T, d *Data, s *section, steps int) {
	t.Helper()
	if s.Missing != "" || len(s.Tables[0].Rows) != steps {
		t.Fatalf("threshold table: missing %q, rows %d; want %d", s.Missing, len(s.Tables[0].Rows), steps)
	}
	var tp, fp, fn int
	for i, v := range d.Test.Y {
		pos := d.Test.Pred[i] > d.threshold()
		switch {
		case pos && v == 1:
			tp++
		case pos:
			fp++
		case v == 1:
			fn++
		}
	}
	found := false
	for _, row := range s.Tables[0].Rows {
		if !strings.HasSuffix(row[0].Text, "(in use)") {
			continue
		}
		found = true
		prec, rec := float64(tp)/float64(tp+fp), float64(tp)/float64(tp+fn)
		if row[2].Text != num(prec) || row[3].Text != num(rec) || row[6].Text != intc(tp).Text {
			t.Errorf("row in use %v; want precision %s recall %s TP %d", row, num(prec), num(rec), tp)
		}
	}
	if !found {
		t.Error("no row marked in use")
	}
}

// TestWriteClassification writes a binary report: its page holds the
// confusion matrix, ROC and precision–recall SVGs and the threshold
// table, and their PNGs are written.
func TestWriteClassification(t *testing.T) {
	dir := t.TempDir()
	files, err := Write(context.Background(), dir, classData(2, 300))
	if err != nil {
		t.Fatal(err)
	}
	page, err := os.ReadFile(filepath.Join(dir, HTMLFile))
	if err != nil {
		t.Fatal(err)
	}
	html := string(page)
	for _, want := range []string{`<section id="confusion">`, `aria-label="ROC curve (test rows)"`, `aria-label="Precision–recall curve (test rows)"`, `<section id="thresholds">`, "0.5 (in use)"} {
		if !strings.Contains(html, want) {
			t.Errorf("page lacks %s", want)
		}
	}
	have := strings.Join(files.PNG, " ")
	for _, f := range []string{"roc.png", "precision_recall.png"} {
		if !strings.Contains(have, f) {
			t.Errorf("no %s in %s", f, have)
		}
	}
}

func TestTargetBins(t *testing.T) {
	cases := []struct {
		name    string
		y       []float64
		classes []string
		want    []Bin
	}{
		{"classes", []float64{0, 1, 1, 2, 1, math.NaN()}, []string{"a", "b", "c"}, []Bin{{"a", 1}, {"b", 3}, {"c", 1}}},
		{"histogram", []float64{0, 0.1, 0.9, 1, math.Inf(1)}, nil, []Bin{{"0.25", 2}, {"0.75", 2}}},
	}
	for _, c := range cases {
		got := TargetBins(c.y, c.classes, 2)
		if len(got) != len(c.want) {
			t.Fatalf("%s: TargetBins = %v; want %v", c.name, got, c.want)
		}
		for i := range got {
			if got[i] != c.want[i] {
				t.Errorf("%s: TargetBins = %v; want %v", c.name, got, c.want)
			}
		}
	}
}

// TestSummaryClassList: the summary lists labels holding a comma or
// edge spaces quoted, so that the four vehicle classes below read as
// four; joined bare, "bus, double-decker" read as two classes.
func TestSummaryClassList(t *testing.T) {
	for _, c := range []struct {
		classes []string
		want    string
	}{
		{[]string{"no", "yes"}, "no, yes"},
		{[]string{"Adelie penguin", "Öpel Mantá 日本"}, "Adelie penguin, Öpel Mantá 日本"},
		{[]string{" van ", `Saab "9000"`, "bus, double-decker", "Öpel Mantá 日本"}, `" van ", "Saab \"9000\"", "bus, double-decker", "Öpel Mantá 日本"`},
	} {
		d := classData(2, 10)
		d.Classes = c.classes
		var got string
		for _, row := range summarySection(d).Tables[0].Rows {
			if row[0].Text == "classes" {
				got = row[1].Text
			}
		}
		if got != c.want {
			t.Errorf("summary classes of %q = %s; want %s", c.classes, got, c.want)
		}
	}
}
