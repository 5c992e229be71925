package meta

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/tabforge/tabforge/internal/unitrec"
	"github.com/tabforge/tabforge/pipeline"
)

// evalsText renders a knowledge base's evaluations without times and
// run ids.
func evalsText(t *testing.T, kb *KB) string {
	t.Helper()
	s, err := kb.Snapshot(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, e := range s.Evals {
		b, _ := json.Marshal(e.Folds)
		lines = append(lines, fmt.Sprintf("%s %s %v %v %s", e.Dataset, e.ID, e.Params, e.Score, b))
	}
	for _, d := range s.Datasets {
		b, _ := json.Marshal(d.Features.Values)
		lines = append(lines, d.Key+" "+string(b))
	}
	slices.Sort(lines)
	return strings.Join(lines, "\n")
}

// TestBuildUnits: a build whose datasets run as units records what the
// build in this process records, reports a dataset that cannot be
// scored as failed without stopping, and a worker's UnitRunner rebuilds
// each unit to the same result, refusing units of another build.
func TestBuildUnits(t *testing.T) {
	corpus := []CorpusDataset{
		{File: filepath.Join("..", "testdata", "corpus", "ggplot2_mpg.csv"), Target: "hwy"},
		{File: filepath.Join("..", "testdata", "corpus", "palmerpenguins_penguins.csv"), Target: "species"},
		{File: filepath.Join("..", "testdata", "corpus", "ggplot2_mpg.csv"), Target: "no_such_column"},
	}
	o := BuildOptions{MaxRows: 120, Folds: 2, Jobs: 1}
	local := &KB{Records: openSQLite(t)}
	lrep, err := Build(t.Context(), local, corpus, o)
	if err != nil {
		t.Fatal(err)
	}
	rec := &unitrec.Recorder{Local: pipeline.Local{Workers: 2}}
	o.Executor, o.CodeVersion = rec, "test build"
	queued := &KB{Records: openSQLite(t)}
	qrep, err := Build(t.Context(), queued, corpus, o)
	if err != nil {
		t.Fatal(err)
	}
	if qrep.Scored != 2 || len(qrep.Failed) != 1 || lrep.Scored != qrep.Scored || len(lrep.Failed) != len(qrep.Failed) {
		t.Errorf("as units: %d scored, failed %v; in process: %d scored, failed %v; want 2 scored and the missing target failed in both",
			qrep.Scored, qrep.Failed, lrep.Scored, lrep.Failed)
	}
	if got, want := evalsText(t, queued), evalsText(t, local); got != want {
		t.Errorf("knowledge base built from units:\n%s\nwant the one built in process:\n%s", got, want)
	}
	// The missing target fails in the driver, which reads each table
	// to find the configurations its knowledge base lacks.
	if len(rec.Units) != 2 || rec.Units[0].Key == rec.Units[1].Key {
		t.Fatalf("%d units sent; want 2 with distinct keys", len(rec.Units))
	}
	u := rec.Units[0]
	b, err := u.Run(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	want := scoresOf(t, b)
	for _, tc := range []struct {
		name, kind, code, err string
	}{
		{name: "same build", kind: UnitKind, code: "test build"},
		{name: "another build", kind: UnitKind, code: "other build", err: "different tabforge build"},
		{name: "another kind", kind: "fold", code: "test build", err: "is not " + UnitKind},
	} {
		got, err := UnitRunner{CodeVersion: tc.code}.Run(t.Context(), u.Key, tc.kind, u.Spec, 1)
		switch {
		case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
			t.Errorf("%s: error %v; want one containing %q", tc.name, err, tc.err)
		case tc.err == "" && (err != nil || scoresOf(t, got) != want):
			t.Errorf("%s: worker result %s, %v; want the driver's %s", tc.name, scoresOf(t, got), err, want)
		}
	}
}

// scoresOf renders a unit result's evaluations without their times.
func scoresOf(t *testing.T, b []byte) string {
	t.Helper()
	var r datasetResult
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatalf("unit result %.80s: %v", b, err)
	}
	for i := range r.Evaluations {
		r.Evaluations[i].Seconds = 0
	}
	out, _ := json.Marshal(r)
	return string(out)
}
