package features

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/tabforge/tabforge/frame"
)

// capFrame has categorical columns c3, c40 and c400 of 3, 40 and 400
// levels over 800 rows.
func capFrame() *frame.Frame {
	var cols []*frame.Column
	for _, n := range []int{3, 40, 400} {
		labels := make([]string, 800)
		for r := range labels {
			labels[r] = fmt.Sprintf("v%03d", r%n)
		}
		cols = append(cols, frame.NewCategoricalFromStrings(fmt.Sprint("c", n), labels))
	}
	return frame.MustNew(cols...)
}

// widths counts d's output columns per input column, by name prefix.
func widths(d *Design) map[string]int {
	w := map[string]int{}
	for _, name := range d.FeatureNames() {
		w[strings.SplitN(name, "_", 2)[0]]++
	}
	return w
}

func TestMaxOneHotColumns(t *testing.T) {
	tests := []struct {
		name string
		spec DesignSpec
		want map[string]int // output columns per input column
	}{
		{"no cap", DesignSpec{OneHot: true}, map[string]int{"c3": 3, "c40": 40, "c400": 400}},
		{"cap above the levels", DesignSpec{OneHot: true, MaxOneHotColumns: 1000}, map[string]int{"c3": 3, "c40": 40, "c400": 400}},
		// 3 + 40 + (56 + other) = 100: the small columns keep every level.
		{"cap 100", DesignSpec{OneHot: true, MaxOneHotColumns: 100}, map[string]int{"c3": 3, "c40": 40, "c400": 57}},
		// 3 + 2 × (22 + other) = 49: the large columns share what is left.
		{"cap 50", DesignSpec{OneHot: true, MaxOneHotColumns: 50}, map[string]int{"c3": 3, "c40": 23, "c400": 23}},
		// Below the floor: one level and the pool per column.
		{"cap 2", DesignSpec{OneHot: true, MaxOneHotColumns: 2}, map[string]int{"c3": 2, "c40": 2, "c400": 2}},
		// MaxOneHotLevels already fits: 3 + 11 + 11.
		{"levels cap fits", DesignSpec{OneHot: true, MaxOneHotLevels: 10, MaxOneHotColumns: 100}, map[string]int{"c3": 3, "c40": 11, "c400": 11}},
		// 3 + 31 + 31 = 65 > 40: 3 + 2 × (17 + other) = 39.
		{"both caps", DesignSpec{OneHot: true, MaxOneHotLevels: 30, MaxOneHotColumns: 40}, map[string]int{"c3": 3, "c40": 18, "c400": 18}},
		{"ordinal ignores it", DesignSpec{MaxOneHotColumns: 2}, map[string]int{"c3": 1, "c40": 1, "c400": 1}},
	}
	f := capFrame()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := mustFit(t, f, tt.spec)
			got := widths(d)
			for col, w := range tt.want {
				if got[col] != w {
					t.Errorf("%s has %d output columns; want %d (all: %v)", col, got[col], w, got)
				}
			}
			if !tt.spec.OneHot {
				return
			}
			// Every training row still has exactly one 1 per input column:
			// pooled labels land in __other__, none is encoded as unseen.
			m := mustMatrix(t, d, f)
			for i := range m.Rows {
				sum := 0.0
				for _, v := range m.Row(i) {
					sum += v
				}
				if sum != 3 {
					t.Fatalf("row %d has %v ones; want 3", i, sum)
				}
			}
			// The capped design round-trips through its JSON encoding.
			b, err := json.Marshal(d)
			if err != nil {
				t.Fatal(err)
			}
			var back Design
			if err := json.Unmarshal(b, &back); err != nil {
				t.Fatalf("decode: %v", err)
			}
			if m2 := mustMatrix(t, &back, f); !sameValues(m2.Data, m.Data, 0) {
				t.Errorf("decoded design encodes differently")
			}
		})
	}
}

func TestMaxOneHotColumnsNegative(t *testing.T) {
	_, err := FitDesign(context.Background(), capFrame(), DesignSpec{OneHot: true, MaxOneHotColumns: -1})
	if err == nil || !strings.Contains(err.Error(), "MaxOneHotColumns") {
		t.Errorf("FitDesign with MaxOneHotColumns -1: err %v; want one naming MaxOneHotColumns", err)
	}
}
