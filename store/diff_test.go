package store_test

import (
	"encoding/json"
	"testing"

	"github.com/tabforge/tabforge/store"
)

func TestDiff(t *testing.T) {
	a := &store.Run{ID: "a", Best: "gbdt", Config: json.RawMessage(`{"seed":42,"models":["ridge","gbdt"],"cv_folds":5}`),
		Result: json.RawMessage(`{"leaderboard":[{"model":"gbdt","cv":{"r2":0.86},"test":{"r2":0.91,"rmse":23024}},{"model":"ridge","cv":{"r2":0.82},"test":{"r2":0.88}}],"timings":{"total":8}}`)}
	b := &store.Run{ID: "b", Best: "gbdt", Config: json.RawMessage(`{"seed":43,"models":["ridge","gbdt"],"cv_folds":5,"extra":true}`),
		Result: json.RawMessage(`{"leaderboard":[{"model":"gbdt","cv":{"r2":0.86},"test":{"r2":0.9,"rmse":23024}}],"timings":{"total":9}}`)}
	got, err := store.Diff(a, b)
	if err != nil {
		t.Fatal(err)
	}
	want := []store.Change{
		{Key: "config.extra", A: "", B: "true"},
		{Key: "config.seed", A: "42", B: "43"},
		{Key: "metrics.gbdt.test.r2", A: "0.91", B: "0.9"},
		{Key: "metrics.ridge.cv.r2", A: "0.82", B: ""},
		{Key: "metrics.ridge.test.r2", A: "0.88", B: ""},
	}
	if len(got) != len(want) {
		t.Fatalf("Diff = %+v; want %+v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("change %d = %+v; want %+v", i, got[i], want[i])
		}
	}
	if same, _ := store.Diff(a, a); len(same) != 0 {
		t.Errorf("Diff(a, a) = %v; want nothing", same)
	}
}
