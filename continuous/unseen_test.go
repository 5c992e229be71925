package continuous

import (
	"context"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tabforge/tabforge/config"
	"github.com/tabforge/tabforge/frame"
	"github.com/tabforge/tabforge/internal/atomicfile"
)

// TestRetrainHoldsOutUnseen: new data adding fewer rows than the holdout
// share (2022's orders and the first two weeks of 2023) holds out only
// the rows after the champion's training data; a 20% share reached back
// into 2022, which the champion had trained on. When the champion's file
// no longer holds its data, the share applies.
func TestRetrainHoldsOutUnseen(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	before, after, _ := trainChampion(t, dir)
	x, err := frame.ReadFile(after, frame.ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ord, _ := x.Lookup("order_date")
	start, end := float64(time.Date(2023, 1, 1, 0, 0, 0, 0, time.UTC).Unix()), float64(time.Date(2023, 1, 15, 0, 0, 0, 0, time.UTC).Unix())
	var rows []int
	added := 0
	for i, v := range ord.Num {
		if v < end {
			rows = append(rows, i)
			if v >= start {
				added++
			}
		}
	}
	data := filepath.Join(dir, "sales_to_2023-01-14.csv")
	if err := atomicfile.Write(data, func(w io.Writer) error { return frame.WriteCSV(w, x.Take(rows)) }); err != nil {
		t.Fatal(err)
	}
	share := DefaultPolicy().holdoutRows(len(rows))
	if added == 0 || added >= share {
		t.Fatalf("setup: %d rows added in 2023 of %d; want some, fewer than the %d a 20%% share holds out", added, len(rows), share)
	}
	env := openEnv(t, dir, filepath.Join(dir, "artifacts"))
	// The champion's file rewritten: what it trained on is unknown, so the
	// share applies (and the champion stays: no challenger beats it by 1).
	saved, err := os.ReadFile(before)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(before, []byte("order_date,order_quantity\n2022-01-01,1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	d, err := Retrain(ctx, env, "sales", data, Policy{MinAbsolute: 1})
	if err != nil {
		t.Fatal(err)
	}
	if d.Decision != Keep || d.HoldoutRows < share {
		t.Fatalf("with the champion's file changed: %s, %d rows held out; want keep, the 20%% share (%d or more)", d.Decision, d.HoldoutRows, share)
	}

	if err := os.WriteFile(before, saved, 0o644); err != nil {
		t.Fatal(err)
	}
	if d, err = Retrain(ctx, env, "sales", data, Policy{MinAbsolute: 1}); err != nil {
		t.Fatal(err)
	}
	if d.HoldoutRows != added {
		t.Errorf("held out %d rows; want the %d after the champion's data", d.HoldoutRows, added)
	}
}

// TestRowsAfter counts the new rows after the champion's newest time, by
// one time column or by its parts ranked together across both frames.
func TestRowsAfter(t *testing.T) {
	nan := math.NaN()
	ref := frame.MustNew(frame.NewNumeric("Year", []float64{2001, 2001, 2002, nan}), frame.NewNumeric("Round", []float64{1, 2, 1, 9}))
	x := frame.MustNew(frame.NewNumeric("Year", []float64{2001, 2002, 2002, 2003, nan}), frame.NewNumeric("Round", []float64{9, 1, 2, 1, 1}))
	for _, tc := range []struct {
		spec string
		want int
		ok   bool
	}{{"Year,Round", 2, true}, {"Year", 1, true}, {"Round", 0, true}, {"", 0, false}, {"Week", 0, false}} {
		if n, ok := rowsAfter(ref, x, tc.spec); n != tc.want || ok != tc.ok {
			t.Errorf("rowsAfter by %q = %d, %v; want %d, %v", tc.spec, n, ok, tc.want, tc.ok)
		}
	}
}

// TestRetrainNothingNewer: new data with no row after the champion's
// training data (Texas housing with one city's whole history
// backfilled; the champion's own rows in another order) leaves no row
// to judge a challenger on that the champion was not trained or tested
// on, or that is not older than those: retrain keeps the champion,
// trains no challenger and says why, as for unchanged data. It held out
// the newest 20% before, which the champion had trained on.
func TestRetrainNothingNewer(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	full, err := frame.ReadFile(filepath.Join("..", "testdata", "txhousing.csv"), frame.ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	city, _ := full.Lookup("city")
	var others, backfill []int
	for i := range full.NumRows() {
		if city.Label(i) == "Abilene" {
			backfill = append(backfill, i)
		} else {
			others = append(others, i)
		}
	}
	if len(backfill) == 0 {
		t.Fatal("setup: no Abilene rows to backfill")
	}
	write := func(name string, rows []int) string {
		path := filepath.Join(dir, name)
		if err := atomicfile.Write(path, func(w io.Writer) error { return frame.WriteCSV(w, full.Take(rows)) }); err != nil {
			t.Fatal(err)
		}
		return path
	}
	before := write("tx_without_abilene.csv", others)
	cfg := txConfig(before)
	cfg.Name, cfg.MinR2Threshold = "tx", 0 // ridge on 45 cities scores an r2 near 0.73 there
	champ := registerChampion(t, dir, cfg)
	env := openEnv(t, dir, filepath.Join(dir, "artifacts"))
	reversed := slices.Clone(others)
	slices.Reverse(reversed)
	for _, data := range []string{write("tx_backfilled.csv", slices.Concat(backfill, others)), write("tx_reversed.csv", reversed)} {
		h0, err := env.Registry.History(ctx, "tx")
		if err != nil {
			t.Fatal(err)
		}
		d, err := Retrain(ctx, env, "tx", data, Policy{})
		if err != nil {
			t.Fatal(err)
		}
		if d.Decision != Keep || d.ChallengerVersion != "" || d.ChampionVersion != champ || !strings.Contains(d.Reason, "no row newer") {
			t.Errorf("retrain on %s = %+v; want keep without a challenger, no row newer than the champion's data", filepath.Base(data), d)
		}
		if h, _ := env.Registry.History(ctx, "tx"); len(h) != len(h0) {
			t.Errorf("retrain on %s: history grew from %d to %d events; want none recorded, as for unchanged data", filepath.Base(data), len(h0), len(h))
		}
	}
}

// TestRetrainHoldsOutAppended: without a time column the newest rows are
// the last in file order, and new data that is the champion's file with
// fewer rows appended than the holdout share holds out only the appended
// rows. The 20% share reached back into rows the champion was fitted on
// (mpg: 34 rows appended to the champion's 200, 46 held out).
func TestRetrainHoldsOutAppended(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	all, err := frame.ReadFile(filepath.Join("..", "testdata", "corpus", "ggplot2_mpg.csv"), frame.ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	const kept = 200
	write := func(name string, n int) string {
		path := filepath.Join(dir, name)
		rows := make([]int, n)
		for i := range rows {
			rows[i] = i
		}
		if err := atomicfile.Write(path, func(w io.Writer) error { return frame.WriteCSV(w, all.Take(rows)) }); err != nil {
			t.Fatal(err)
		}
		return path
	}
	before := write("mpg_first.csv", kept)
	after := write("mpg_all.csv", all.NumRows())
	added := all.NumRows() - kept
	if share := DefaultPolicy().holdoutRows(all.NumRows()); added >= share {
		t.Fatalf("setup: %d rows appended; want fewer than the %d a 20%% share holds out", added, share)
	}
	cfg := config.Default()
	cfg.Data, cfg.Target, cfg.Name = before, "hwy", "mpg"
	cfg.Models, cfg.CVFolds = []string{"ridge"}, 0
	cfg.MinR2Threshold, cfg.MinBusinessAccuracy = 0, 0
	registerChampion(t, dir, cfg)
	env := openEnv(t, dir, filepath.Join(dir, "artifacts"))
	d, err := Retrain(ctx, env, "mpg", after, Policy{MinAbsolute: 1})
	if err != nil {
		t.Fatal(err)
	}
	if d.HoldoutRows != added {
		t.Errorf("held out %d rows; want the %d appended after the champion's data", d.HoldoutRows, added)
	}
}

// TestRowsAppended counts rows appended to the champion's data, and
// none when the new data does not begin with its rows.
func TestRowsAppended(t *testing.T) {
	nan := math.NaN()
	ref := frame.MustNew(frame.NewNumeric("a", []float64{1, nan}), frame.NewCategoricalFromStrings("b", []string{"x", ""}))
	for _, tc := range []struct {
		name string
		x    *frame.Frame
		want int
		ok   bool
	}{
		{"appended", frame.MustNew(frame.NewNumeric("a", []float64{1, nan, 3}), frame.NewCategoricalFromStrings("b", []string{"x", "", "y"})), 1, true},
		{"changed", frame.MustNew(frame.NewNumeric("a", []float64{1, 2, 3}), frame.NewCategoricalFromStrings("b", []string{"x", "", "y"})), 0, false},
		{"label changed", frame.MustNew(frame.NewNumeric("a", []float64{1, nan, 3}), frame.NewCategoricalFromStrings("b", []string{"x", "z", "y"})), 0, false},
		{"column added", frame.MustNew(frame.NewNumeric("a", []float64{1, nan, 3}), frame.NewCategoricalFromStrings("b", []string{"x", "", "y"}), frame.NewNumeric("c", []float64{0, 0, 0})), 0, false},
		{"fewer rows", frame.MustNew(frame.NewNumeric("a", []float64{1}), frame.NewCategoricalFromStrings("b", []string{"x"})), 0, false},
	} {
		if n, ok := rowsAppended(ref, tc.x); n != tc.want || ok != tc.ok {
			t.Errorf("%s: rowsAppended = %d, %v; want %d, %v", tc.name, n, ok, tc.want, tc.ok)
		}
	}
}
