package main

import (
	"testing"

	"github.com/tabforge/tabforge/pipeline"
)

func TestRankingLine(t *testing.T) {
	for _, tc := range []struct {
		r    pipeline.Result
		want string
	}{
		{pipeline.Result{CVFolds: 5, CV: "timeseries", Metric: "r2"}, "CV timeseries on train; ranked by CV r2"},
		{pipeline.Result{CVFolds: 3, Metric: "auc"}, "3-fold CV on train; ranked by CV auc"},
		// cv_folds 0 ranks by the test metric; the line said "0-fold CV ... ranked by CV".
		{pipeline.Result{CVFolds: 0, Metric: "r2"}, "no CV; ranked by test r2"},
	} {
		if got := rankingLine(&tc.r); got != tc.want {
			t.Errorf("rankingLine(folds %d) = %q, want %q", tc.r.CVFolds, got, tc.want)
		}
	}
}
