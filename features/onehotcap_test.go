package features

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"slices"
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

// idsFrame has 600 rows of an id-like column ids (10 labels of 30 rows
// and 300 singletons) and a column small of 4 labels, three of 2 rows.
func idsFrame() *frame.Frame {
	ids, small := make([]string, 600), make([]string, 600)
	for r := range ids {
		ids[r] = fmt.Sprintf("id%03d", r)
		if r < 300 {
			ids[r] = fmt.Sprintf("top%d", r%10)
		}
		small[r] = fmt.Sprint("s", min(r%300, 3))
	}
	return frame.MustNew(frame.NewCategoricalFromStrings("ids", ids), frame.NewCategoricalFromStrings("small", small))
}

// TestUnseenLabelJoinsPool checks that a label unseen in training is
// encoded as the pool, as a rare label is, by a fitted design and after
// a JSON round trip (version 3), but as all zeros by a design saved as
// version 2, which predicted so. All zeros put the unseen rows where no
// training row of a column that pools most of its rows was.
func TestUnseenLabelJoinsPool(t *testing.T) {
	d := mustFit(t, idsFrame(), DesignSpec{OneHot: true, MaxOneHotLevels: 50})
	test := frame.MustNew(frame.NewCategoricalFromStrings("ids", []string{"never", "top3", "id450"}),
		frame.NewCategoricalFromStrings("small", []string{"s0", "s1", "s3"}))
	other := slices.Index(d.FeatureNames(), "ids_"+OtherLevel)
	b, err := json.Marshal(d)
	if err != nil {
		t.Fatal(err)
	}
	var back, legacy Design
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	old := bytes.Replace(b, []byte(`"version":3`), []byte(`"version":2`), 1)
	if bytes.Equal(old, b) {
		t.Fatalf("a design with pooled labels was not saved as version 3: %.40s", b)
	}
	if err := json.Unmarshal(old, &legacy); err != nil {
		t.Fatal(err)
	}
	for name, c := range map[string]struct {
		d    *Design
		want float64 // the unseen label's value in the pool's column
	}{"fitted": {d, 1}, "version 3": {&back, 1}, "version 2": {&legacy, 0}} {
		m := mustMatrix(t, c.d, test)
		if got := m.Row(0)[other]; got != c.want {
			t.Errorf("%s: unseen label has %v in %s; want %v", name, got, "ids_"+OtherLevel, c.want)
		}
		if got := m.Row(2)[other]; got != 1 {
			t.Errorf("%s: a pooled label has %v in the pool's column; want 1", name, got)
		}
	}
}

// TestMinOneHotCount checks that a column MaxOneHotLevels caps also
// pools its levels seen in fewer than MinOneHotCount rows, while a column
// within the cap keeps its rare levels.
func TestMinOneHotCount(t *testing.T) {
	f := idsFrame()
	tests := []struct {
		name string
		spec DesignSpec
		want map[string]int // output columns per input column
	}{
		{"no minimum", DesignSpec{OneHot: true, MaxOneHotLevels: 50}, map[string]int{"ids": 51, "small": 4}},
		// 10 labels of 30 rows and the pool; small's 2-row labels stay.
		{"minimum 5", DesignSpec{OneHot: true, MaxOneHotLevels: 50, MinOneHotCount: 5}, map[string]int{"ids": 11, "small": 4}},
		{"minimum above every count", DesignSpec{OneHot: true, MaxOneHotLevels: 50, MinOneHotCount: 31}, map[string]int{"ids": 1, "small": 4}},
		{"no cap, no minimum", DesignSpec{OneHot: true, MinOneHotCount: 5}, map[string]int{"ids": 310, "small": 4}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := mustFit(t, f, tt.spec)
			if got := widths(d); got["ids"] != tt.want["ids"] || got["small"] != tt.want["small"] {
				t.Errorf("widths %v; want %v", got, tt.want)
			}
			m := mustMatrix(t, d, f)
			for i := range m.Rows {
				sum := 0.0
				for _, v := range m.Row(i) {
					sum += v
				}
				if sum != 2 {
					t.Fatalf("row %d has %v ones; want 2", i, sum)
				}
			}
		})
	}
	if _, err := FitDesign(context.Background(), f, DesignSpec{OneHot: true, MinOneHotCount: -1}); err == nil || !strings.Contains(err.Error(), "MinOneHotCount") {
		t.Errorf("FitDesign with MinOneHotCount -1: err %v; want one naming MinOneHotCount", err)
	}
}
