package gbdt

import (
	"bytes"
	"encoding/json"
	"math"
	"testing"

	"github.com/tabforge/tabforge/model"
)

// wholeEncoding is the encoding MarshalBinary wrote before it encoded
// trees one at a time: json.Marshal of the whole savedModel. Saved models
// and cache keys depend on these bytes.
func wholeEncoding(t *testing.T, m *Model) []byte {
	t.Helper()
	s := savedModel{savedHead: savedHead{
		Format: savedFormat, Version: savedVersion, Params: m.params, Task: m.task,
		NumClass: m.numClass, NumFeature: m.numFeature, FeatureNames: m.featureNames,
		BaseMargin: m.baseMargin, TreeClass: m.treeClass, BestScore: m.bestScore,
	}}
	if math.IsInf(s.BestScore, 0) || math.IsNaN(s.BestScore) {
		s.BestScore = 0
	}
	for _, tr := range m.trees {
		st := savedTree{tr.left, tr.right, tr.feature, tr.threshold, tr.defaultLeft, tr.value, tr.cover, tr.gain, nil}
		if tr.hasCats() {
			st.Categories = make([][]int, tr.NumNodes())
			for i := range st.Categories {
				st.Categories[i] = tr.Categories(i)
			}
		}
		s.Trees = append(s.Trees, st)
	}
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestAppendBinaryMatchesWholeEncoding(t *testing.T) {
	multi := synthTask(model.Multiclass, 300, 3)
	multi.FeatureNames = []string{"a<b>", "c&d", "e", "f", "g", "h"} // escaped as json.Marshal escapes
	empty := synthTask(model.Regression, 50, 4)
	for _, c := range []struct {
		name    string
		p       Params
		d       *model.Dataset
		noTrees bool // the trees dropped: "trees" encodes as null
	}{
		{"multiclass", Params{NEstimators: 5}, multi, false},
		{"categorical", Params{NEstimators: 3, MaxDepth: 2, CategoricalSplits: true}, catData(600), false},
		{"no trees", Params{NEstimators: 1}, empty, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			m := fit(t, c.p, c.d, 2)
			if c.noTrees {
				m.trees, m.treeClass = nil, nil
			}
			want := wholeEncoding(t, m)
			if got := marshal(t, m); !bytes.Equal(got, want) {
				t.Fatalf("MarshalBinary differs from json.Marshal of the model:\n got %.300s\nwant %.300s", got, want)
			}
			prefix := []byte("header")
			got, err := m.AppendBinary(prefix)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, append([]byte("header"), want...)) {
				t.Errorf("AppendBinary(%q) = %.40q…; want the prefix then the encoding", "header", got)
			}
			if _, err := Decode(want); err != nil && len(m.trees) > 0 {
				t.Errorf("Decode: %v", err)
			}
		})
	}
}

// BenchmarkMarshalBinary reports the bytes a model's encoding allocates
// beside the size of the encoding itself.
func BenchmarkMarshalBinary(b *testing.B) {
	d := synthTask(model.Multiclass, 2000, 5)
	m, err := Train(b.Context(), Params{NEstimators: 100}, d, nil, model.FitOptions{Workers: 2})
	if err != nil {
		b.Fatal(err)
	}
	nodes := 0
	for _, t := range m.trees {
		nodes += t.NumNodes()
	}
	var enc []byte
	b.ReportAllocs()
	for b.Loop() {
		if enc, err = m.MarshalBinary(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(enc)), "encoded-B")
	b.ReportMetric(float64(len(enc))/float64(nodes), "B/node")
}
