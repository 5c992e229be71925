package synth

import (
	"context"
	"io"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/tabforge/tabforge/drift"
	"github.com/tabforge/tabforge/frame"
)

func TestSalesShape(t *testing.T) {
	ctx := context.Background()
	p := SalesParams{Rows: 20_000, Seed: 3, Months: 12}
	f, err := Sales(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(f.Names(), SalesColumns) || f.NumRows() != p.Rows {
		t.Fatalf("columns %v, %d rows; want %v, %d", f.Names(), f.NumRows(), SalesColumns, p.Rows)
	}
	g, _ := Sales(ctx, p)
	p.Seed = 4
	h, _ := Sales(ctx, p)
	if f.Hash() != g.Hash() || f.Hash() == h.Hash() {
		t.Error("the same seed must give the same table, another seed another")
	}
	col := func(name string) []float64 { c, _ := f.Lookup(name); return c.Num }
	pro, ord, shp, del := col("procured_date"), col("order_date"), col("ship_date"), col("delivery_date")
	price, cost, disc, q := col("unit_price"), col("unit_cost"), col("discount"), col("order_quantity")
	start, end := float64(time.Date(2022, 1, 1, 0, 0, 0, 0, time.UTC).Unix()), float64(time.Date(2023, 1, 1, 0, 0, 0, 0, time.UTC).Unix())
	for i := range f.NumRows() {
		if !(pro[i] < ord[i] && ord[i] < shp[i] && shp[i] < del[i]) || ord[i] < start || ord[i] >= end || (i > 0 && ord[i] < ord[i-1]) {
			t.Fatalf("row %d: dates %v %v %v %v out of order or period", i, pro[i], ord[i], shp[i], del[i])
		}
		if !(cost[i] < price[i]) || disc[i] < 0 || disc[i] > 0.4 || q[i] < 1 || q[i] != math.Trunc(q[i]) {
			t.Fatalf("row %d: price %v cost %v discount %v quantity %v", i, price[i], cost[i], disc[i], q[i])
		}
	}
}

// TestSalesDrift measures drift on generated data as the issue asks, over
// 20 seeds: random halves of data without a shift show no dataset drift,
// the same month against the three months before it shows no dataset
// drift without a shift (seasonality and promotions move a column or
// three) and dataset drift with one.
func TestSalesDrift(t *testing.T) {
	ctx := context.Background()
	const seeds = 20
	at := time.Date(2023, 7, 1, 0, 0, 0, 0, time.UTC)
	falseAlarms, found, control := 0, 0, 0
	for seed := range uint64(seeds) {
		p := SalesParams{Rows: 24_000, Seed: seed, Months: 24}
		f, err := Sales(ctx, p)
		if err != nil {
			t.Fatal(err)
		}
		perm := permutation(f.NumRows(), seed)
		r, err := drift.Compare(ctx, f.Take(perm[:len(perm)/2]), f.Take(perm[len(perm)/2:]), drift.Options{Target: "order_quantity"})
		if err != nil {
			t.Fatal(err)
		}
		if r.DatasetDrift {
			falseAlarms++
		}
		r, err = drift.Compare(ctx, window(f, at.AddDate(0, -3, 0), at), window(f, at, at.AddDate(0, 1, 0)), drift.Options{Target: "order_quantity"})
		if err != nil {
			t.Fatal(err)
		}
		if r.DatasetDrift {
			control++
		}
		p.DriftAt = at
		g, err := Sales(ctx, p)
		if err != nil {
			t.Fatal(err)
		}
		ref, cur := window(g, at.AddDate(0, -3, 0), at), window(g, at, at.AddDate(0, 1, 0))
		r, err = drift.Compare(ctx, ref, cur, drift.Options{Target: "order_quantity"})
		if err != nil {
			t.Fatal(err)
		}
		if r.DatasetDrift {
			found++
		}
		if seed == 0 {
			t.Logf("drift month vs 3 months before: share %.2f (%d/%d), target drifted %v", r.DriftedShare, r.Drifted, r.Compared, r.Target.Drifted)
		}
	}
	t.Logf("dataset drift: random halves without shift %d/%d seeds, month vs 3 months before without shift %d/%d, with shift %d/%d",
		falseAlarms, seeds, control, seeds, found, seeds)
	if falseAlarms > seeds/20 || control > seeds/20 {
		t.Errorf("dataset drift without a shift: %d/%d random halves, %d/%d month windows; want ≤ 5%%", falseAlarms, seeds, control, seeds)
	}
	if found < seeds*95/100 {
		t.Errorf("drift month flagged in %d/%d seeds; want ≥ 95%%", found, seeds)
	}
}

func permutation(n int, seed uint64) []int {
	r := newRand(seed)
	return r.Perm(n)
}

// window returns the rows of f ordered in [from, to).
func window(f *frame.Frame, from, to time.Time) *frame.Frame {
	c, _ := f.Lookup("order_date")
	var rows []int
	for i, v := range c.Num {
		if v >= float64(from.Unix()) && v < float64(to.Unix()) {
			rows = append(rows, i)
		}
	}
	return f.Take(rows)
}

func BenchmarkSales(b *testing.B) {
	for b.Loop() {
		if _, err := Sales(context.Background(), SalesParams{Rows: 1_000_000, Seed: 1}); err != nil {
			b.Fatal(err)
		}
	}
}

func newRand(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, 99)) }

// TestSalesSpan: orders fill the whole span however long (time.Duration
// saturates at about 292 years: 4,000 months from 1700 ended in 1990),
// and parameters no order could honour are errors: a shift after the last
// month (it used to be ignored) or dates outside the years frame writes.
func TestSalesSpan(t *testing.T) {
	ctx := context.Background()
	date := func(y int, m time.Month) time.Time { return time.Date(y, m, 1, 0, 0, 0, 0, time.UTC) }
	for _, c := range []struct {
		name string
		p    SalesParams
		ok   bool
	}{
		{"four centuries", SalesParams{Rows: 500, Seed: 1, Start: date(1700, 1), Months: 4000, DriftAt: date(2000, 1)}, true},
		{"shift before the start", SalesParams{Rows: 50, Seed: 1, DriftAt: date(2020, 1)}, true},
		{"shift after the end", SalesParams{Rows: 50, Seed: 1, Months: 12, DriftAt: date(2023, 1)}, false},
		{"past year 9999", SalesParams{Rows: 50, Seed: 1, Start: date(9999, 1), Months: 12}, false},
		// Deliveries run 40 days past the last month: 9999-11 failed only
		// when written, after generating.
		{"delivered past year 9999", SalesParams{Rows: 5000, Seed: 1, Start: date(9999, 11), Months: 1}, false},
		{"delivered in 9999", SalesParams{Rows: 5000, Seed: 1, Start: date(9999, 6), Months: 1}, true},
		{"procured before year 0", SalesParams{Rows: 50, Seed: 1, Start: date(0, 2), Months: 12}, false},
		{"procured in year 0", SalesParams{Rows: 50, Seed: 1, Start: date(0, 6), Months: 12}, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			f, err := Sales(ctx, c.p)
			if (err == nil) != c.ok {
				t.Fatalf("error %v; want ok %v", err, c.ok)
			}
			if err != nil {
				return
			}
			if err := frame.WriteCSV(io.Discard, f); err != nil {
				t.Fatalf("generated, not writable: %v", err)
			}
			ord, _ := f.Lookup("order_date")
			end := c.p.start().AddDate(0, c.p.months(), 0)
			// The last order falls in the last twentieth of the span: rows
			// are spread evenly over it.
			first, last := float64(c.p.start().Unix()), slices.Max(ord.Num)
			if stop := float64(end.Unix()); stop-last > (stop-first)/20 {
				t.Errorf("last order %s; the span ends %s", time.Unix(int64(last), 0).UTC().Format(time.DateOnly), end.Format(time.DateOnly))
			}
		})
	}
}
