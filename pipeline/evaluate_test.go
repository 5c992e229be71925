package pipeline

import (
	"strings"
	"testing"

	"github.com/tabforge/tabforge/frame"
	"github.com/tabforge/tabforge/model"
)

// TestEvaluateNamesNonNumericTarget: evaluating a regression model on a
// file whose target holds text names the first value that is not a
// number and its row. The error was `target column "y" is not numeric`,
// with nothing to find in a file of thousands of rows.
func TestEvaluateNamesNonNumericTarget(t *testing.T) {
	p := &Predictor{Target: Target{Name: "y", Task: model.Regression}}
	tests := []struct {
		name   string
		labels []string
		want   string
	}{
		{"text in row 3", []string{"1", "", "abc", "2"}, `row 3 holds "abc"`},
		{"thousands separator", []string{"1,250", "7"}, `row 1 holds "1,250"`},
		{"numbers read as categories", []string{"1", "2"}, "read as categorical"},
	}
	for _, tt := range tests {
		x, err := frame.New(frame.NewCategoricalFromStrings("y", tt.labels))
		if err != nil {
			t.Fatal(err)
		}
		_, _, err = Evaluate(p, x)
		if err == nil || !strings.Contains(err.Error(), `target column "y" is not numeric`) || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: Evaluate = %v; want it to name %s", tt.name, err, tt.want)
		}
	}
}
