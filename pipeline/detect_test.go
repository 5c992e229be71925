package pipeline

import (
	"math"
	"strings"
	"testing"

	"github.com/tabforge/tabforge/config"
	"github.com/tabforge/tabforge/frame"
	"github.com/tabforge/tabforge/model"
)

func TestDetectTaskNumeric(t *testing.T) {
	nan := math.NaN()
	for _, tc := range []struct {
		name string
		y    []float64
		want model.Task
	}{
		{"0/1 flag", []float64{0, 1, 1, 0, nan, 1}, model.Binary},
		{"1/2 codes", []float64{2, 1, 2}, model.Binary},
		{"three values", []float64{0, 1, 2}, model.Regression},
		{"two fractional values", []float64{0.5, 1.5, 0.5}, model.Regression},
		{"one value", []float64{1, 1, nan}, model.Regression},
		{"prices", []float64{100.5, 230, 99}, model.Regression},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := &frame.Column{Name: "y", Kind: frame.Numeric, Num: tc.y}
			got, err := DetectTask(c, "auto")
			if err != nil || got != tc.want {
				t.Errorf("detectTask = %v, %v; want %v", got, err, tc.want)
			}
		})
	}
}

// TestTargetRefused: targets no task can learn, or not the task asked
// for, are refused with a reason before any training.
func TestTargetRefused(t *testing.T) {
	when := &frame.Column{Name: "when", Kind: frame.Datetime, Num: []float64{1e9, 2e9, 3e9}}
	for _, task := range []string{"auto", "regression", "binary", "multiclass"} {
		if _, err := DetectTask(when, task); err == nil || !strings.Contains(err.Error(), "datetime") {
			t.Errorf("datetime target, task %s: %v; want refused", task, err)
		}
	}
	two := frame.NewCategoricalFromStrings("y", []string{"a", "b", "a"})
	if _, _, err := codeTarget(two, model.Multiclass, ""); err == nil || !strings.Contains(err.Error(), "--task binary") {
		t.Errorf("two classes as multiclass: %v; want a pointer to --task binary", err)
	}
	// One class is refused by the table train and meta show both read
	// (meta show called it binary with 1 class).
	one, _ := frame.New(frame.NewCategoricalFromStrings("y", []string{"yes", "yes", ""}), frame.NewNumeric("x", []float64{1, 2, 3}))
	cfg := config.Default()
	cfg.Target = "y"
	if _, err := LoadTrainingTable(one, cfg); err == nil || !strings.Contains(err.Error(), "single class (yes)") {
		t.Errorf("one class: %v; want refused", err)
	}
	// Targets near 1e300 overflowed every squared error: gbdt failed on
	// NaN predictions, the forest split on NaN impurities and the run
	// succeeded with an R² of 0.58.
	huge := frame.NewNumeric("y", []float64{1e300, 2e300, 3e300})
	if _, _, err := codeTarget(huge, model.Regression, ""); err == nil || !strings.Contains(err.Error(), "rescale") {
		t.Errorf("target of 1e300: %v; want refused", err)
	}
	large := frame.NewNumeric("y", []float64{1e12, -2e12, 3e12})
	if _, _, err := codeTarget(large, model.Regression, ""); err != nil {
		t.Errorf("target of 1e12: %v", err)
	}
}

// TestDetectTaskNumberText: a target of amounts written as text ("$1,444")
// is refused under task auto, which made each distinct amount a class, and
// learned as classes when the user asks for that.
func TestDetectTaskNumberText(t *testing.T) {
	money := frame.NewCategoricalFromStrings("price", []string{"$1,444", "$1,481", "$1,518"})
	if _, err := DetectTask(money, "auto"); err == nil || !strings.Contains(err.Error(), `holds numbers written as text (e.g. "$1,444")`) {
		t.Errorf("currency target, task auto: %v; want refused with an example", err)
	}
	if got, err := DetectTask(money, "multiclass"); err != nil || got != model.Multiclass {
		t.Errorf("currency target, task multiclass: %v, %v; want multiclass", got, err)
	}
	labels := frame.NewCategoricalFromStrings("y", []string{"low", "mid", "high"})
	if got, err := DetectTask(labels, "auto"); err != nil || got != model.Multiclass {
		t.Errorf("labels: %v, %v; want multiclass", got, err)
	}
}
