package report

import (
	"fmt"
	"slices"

	"github.com/tabforge/tabforge/eval"
)

// maxCurvePoints caps the points drawn of a ROC or precision–recall
// curve, which has one per distinct test score.
const maxCurvePoints = 400

// thresholdSteps are the rows of the threshold table.
var thresholdSteps = []float64{0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9}

// threshold is the binary decision threshold in use.
func (d *Data) threshold() float64 {
	if d.Threshold > 0 && d.Threshold < 1 {
		return d.Threshold
	}
	return 0.5
}

// testLabels returns the test rows' true classes and the classes the
// model predicts: for binary tasks class 1 when p > threshold, otherwise
// the most probable class.
func (d *Data) testLabels() (y, pred []int, err error) {
	k := d.classes()
	y = make([]int, len(d.Test.Y))
	for i, v := range d.Test.Y {
		y[i] = int(v)
	}
	if k > 2 {
		pred, err = eval.PredictLabels(d.Test.Pred, k)
		return y, pred, err
	}
	pred = make([]int, len(y))
	for i, p := range d.Test.Pred {
		if p > d.threshold() {
			pred[i] = 1
		}
	}
	return y, pred, nil
}

func (d *Data) className(c int) string {
	if c < len(d.Classes) {
		return d.Classes[c]
	}
	return fmt.Sprint(c)
}

func confusionSection(d *Data) *section {
	s := &section{ID: "confusion", Title: "Confusion matrix"}
	if d.regression() || !d.testOK() {
		s.Missing = "no classification test predictions"
		return s
	}
	k := d.classes()
	y, pred, err := d.testLabels()
	var m [][]float64
	if err == nil {
		m, err = eval.ConfusionMatrix(y, pred, k, nil)
	}
	if err != nil {
		s.Missing = "test predictions unusable: " + err.Error()
		return s
	}
	head := []string{"actual \\ predicted"}
	for c := range k {
		head = append(head, d.className(c))
	}
	head = append(head, "rows", "recall")
	t := table{Head: head}
	for a := range k {
		row := []cell{txt(d.className(a))}
		var total float64
		for p := range k {
			row = append(row, intc(int(m[a][p])))
			total += m[a][p]
		}
		row = append(row, intc(int(total)), numc(m[a][a]/total))
		t.Rows = append(t.Rows, row)
	}
	s.Tables = []table{t}
	rule := "the most probable class"
	if k == 2 {
		rule = fmt.Sprintf("class %s when its probability exceeds %s", d.className(1), num(d.threshold()))
	}
	s.Notes = []string{fmt.Sprintf("Test rows; the model predicts %s. Rows are actual classes, columns predicted ones.", rule)}
	return s
}

// classCurves returns the operating points of each one-vs-rest problem
// of the test predictions: one (class 1) for binary tasks, one per class
// otherwise. A class absent from the test rows, or making all of them,
// is left out.
func (d *Data) classCurves() (classes []int, pts [][]eval.OperatingPoint, err error) {
	k := d.classes()
	n := len(d.Test.Y)
	y := make([]int, n)
	for c := range k {
		if k == 2 && c == 0 {
			continue
		}
		score := d.Test.Pred
		if k > 2 {
			score = make([]float64, n)
			for i := range score {
				score[i] = d.Test.Pred[i*k+c]
			}
		}
		for i, v := range d.Test.Y {
			y[i] = 0
			if int(v) == c {
				y[i] = 1
			}
		}
		p, err := eval.OperatingPoints(y, score, nil)
		if err != nil {
			return nil, nil, err
		}
		last := p[len(p)-1]
		if last.TP == 0 || last.FP == 0 {
			continue
		}
		classes, pts = append(classes, c), append(pts, p)
	}
	return classes, pts, nil
}

func rocSection(d *Data) *section {
	s := &section{ID: "roc", Title: "ROC and precision–recall"}
	if d.regression() || !d.testOK() {
		s.Missing = "no classification test predictions"
		return s
	}
	classes, curves, err := d.classCurves()
	if err != nil || len(curves) == 0 {
		s.Missing = "the test rows need both classes"
		if err != nil {
			s.Missing = "test predictions unusable: " + err.Error()
		}
		return s
	}
	roc := &chart{File: "roc", Title: "ROC curve (test rows)", XLabel: "false positive rate", YLabel: "true positive rate", Diagonal: true, Legend: bottomRight}
	pr := &chart{File: "precision_recall", Title: "Precision–recall curve (test rows)", XLabel: "recall", YLabel: "precision", Legend: bottomLeft}
	t := table{Head: []string{"class", "ROC AUC", "average precision", "share of rows"}}
	for i, pts := range curves {
		pts = thin(pts, maxCurvePoints)
		var fpr, tpr, rec, prec []float64
		for _, p := range pts {
			fpr, tpr = append(fpr, p.FPR()), append(tpr, p.TPR())
			if p.TP+p.FP > 0 { // no precision before the first positive prediction
				rec, prec = append(rec, p.TPR()), append(prec, p.Precision())
			}
		}
		all := curves[i][len(curves[i])-1]
		auc, ap := eval.AreaUnderROC(curves[i]), eval.AveragePrecision(curves[i])
		name := d.className(classes[i])
		roc.Series = append(roc.Series, series{Name: fmt.Sprintf("%s (AUC %.3f)", name, auc), Kind: line, X: fpr, Y: tpr, Color: colorAt(i)})
		pr.Series = append(pr.Series, series{Name: fmt.Sprintf("%s (AP %.3f)", name, ap), Kind: line, X: rec, Y: prec, Color: colorAt(i)})
		t.Rows = append(t.Rows, []cell{txt(name), numc(auc), numc(ap), numc(all.TP / (all.TP + all.FP))})
	}
	s.Charts = charts(roc, pr)
	s.Tables = []table{t}
	note := "ROC AUC is the chance that a random positive row scores above a random negative one; average precision is the area under the precision–recall step curve. A random model has AUC 0.5 and average precision equal to the share of positive rows."
	if len(curves) > 1 {
		note = "One curve per class against the rest. " + note
	}
	s.Notes = []string{note}
	return s
}

// thin keeps at most n of pts, evenly spaced, always the first and last.
func thin(pts []eval.OperatingPoint, n int) []eval.OperatingPoint {
	if len(pts) <= n {
		return pts
	}
	out := make([]eval.OperatingPoint, 0, n)
	for i := range n {
		out = append(out, pts[i*(len(pts)-1)/(n-1)])
	}
	return out
}

func thresholdSection(d *Data) *section {
	s := &section{ID: "thresholds", Title: "Thresholds"}
	if d.classes() != 2 || !d.testOK() {
		s.Missing = "binary classification only"
		return s
	}
	y, _, err := d.testLabels()
	if err != nil {
		s.Missing = "test predictions unusable: " + err.Error()
		return s
	}
	t := table{Head: []string{"threshold", "predicted " + d.className(1), "precision", "recall", "F1", "accuracy", "TP", "FP", "TN", "FN"}}
	steps := thresholdSteps
	if !slices.Contains(steps, d.threshold()) {
		steps = append(append([]float64{}, steps...), d.threshold())
		slices.Sort(steps)
	}
	for _, th := range steps {
		var o eval.OperatingPoint
		for i, p := range d.Test.Pred {
			switch {
			case p > th && y[i] == 1:
				o.TP++
			case p > th:
				o.FP++
			case y[i] == 1:
				o.FN++
			default:
				o.TN++
			}
		}
		label := txt(num(th))
		if th == d.threshold() {
			label.Text += " (in use)"
		}
		acc := (o.TP + o.TN) / float64(len(y))
		t.Rows = append(t.Rows, []cell{label, intc(int(o.TP + o.FP)), numc(o.Precision()), numc(o.TPR()), numc(o.F1()), numc(acc),
			intc(int(o.TP)), intc(int(o.FP)), intc(int(o.TN)), intc(int(o.FN))})
	}
	s.Tables = []table{t}
	s.Notes = []string{fmt.Sprintf("Test rows predicted %s when the probability of %s exceeds the threshold. Precision is 1 when nothing is predicted positive.", d.className(1), d.className(1))}
	return s
}
