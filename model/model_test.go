package model

import (
	"slices"
	"testing"
)

func TestDatasetTakeRows(t *testing.T) {
	d := &Dataset{
		X:    &Matrix{Rows: 3, Cols: 2, Data: []float64{0, 1, 10, 11, 20, 21}},
		Y:    []float64{0, 1, 2},
		Task: Multiclass, NumClasses: 3, FeatureNames: []string{"a", "b"},
	}
	weighted := *d
	weighted.Weights = []float64{0.5, 1, 2}
	tests := []struct {
		name         string
		d            *Dataset
		rows         []int
		wantX, wantY []float64
		wantW        []float64
	}{
		{"reorder with repeats", d, []int{2, 0, 2}, []float64{20, 21, 0, 1, 20, 21}, []float64{2, 0, 2}, nil},
		{"weighted", &weighted, []int{1}, []float64{10, 11}, []float64{1}, []float64{1}},
		{"no rows", d, nil, []float64{}, []float64{}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := slices.Clone(tt.d.X.Data)
			got := tt.d.TakeRows(tt.rows)
			if got.X.Rows != len(tt.rows) || got.X.Cols != 2 || !slices.Equal(got.X.Data, tt.wantX) {
				t.Errorf("X = %d×%d %v; want %d×2 %v", got.X.Rows, got.X.Cols, got.X.Data, len(tt.rows), tt.wantX)
			}
			if !slices.Equal(got.Y, tt.wantY) || !slices.Equal(got.Weights, tt.wantW) {
				t.Errorf("Y, Weights = %v, %v; want %v, %v", got.Y, got.Weights, tt.wantY, tt.wantW)
			}
			if got.Task != tt.d.Task || got.NumClasses != 3 || !slices.Equal(got.FeatureNames, tt.d.FeatureNames) {
				t.Errorf("metadata not kept: %+v", got)
			}
			if len(tt.rows) > 0 {
				got.X.Data[0], got.Y[0] = -1, -1
			}
			if !slices.Equal(tt.d.X.Data, before) || tt.d.Y[0] != 0 {
				t.Error("TakeRows shares X or Y with its input")
			}
		})
	}
}

// TestDecodeStrictUnknown checks that a misspelt parameter is named with
// the parameters there are: the error said only `json: unknown field
// "max_deph"`, leaving the user to find the spelling in the source.
func TestDecodeStrictUnknown(t *testing.T) {
	type inner struct {
		Depth int `json:"max_depth"`
	}
	type params struct {
		inner
		Rate   float64 `json:"learning_rate,omitempty"`
		Hidden int     `json:"-"`
		Seed   uint64
	}
	var p params
	err := DecodeStrict([]byte(`{"max_deph": 3}`), &p)
	want := `model: parameters: unknown field "max_deph" (parameters: max_depth, learning_rate, Seed)`
	if err == nil || err.Error() != want {
		t.Errorf("DecodeStrict = %v; want %s", err, want)
	}
	if err := DecodeStrict([]byte(`{"max_depth": 3}`), &p); err != nil || p.Depth != 3 {
		t.Errorf("DecodeStrict(max_depth 3) = %v, depth %d; want nil, 3", err, p.Depth)
	}
}
