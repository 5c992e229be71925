package features

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"
	_ "time/tzdata" // the zones below, whatever the machine has installed

	"github.com/tabforge/tabforge/frame"
)

// zonedPanel writes a 3-segment panel with a trend and a yearly cycle, one
// row per segment at each of n civil times start + k·step (days, or months
// when months is set) at 00:00 in loc, as two CSV files: times with their
// UTC offsets ("zoned") and the same civil times without any ("naive", read
// as UTC), and reads both back.
func zonedPanel(t *testing.T, loc *time.Location, start time.Time, n, step int, months bool) (zoned, naive *frame.Frame) {
	t.Helper()
	var zb, nb bytes.Buffer
	zb.WriteString("date,seg,x,y\n")
	nb.WriteString("date,seg,x,y\n")
	for s := range 3 {
		for k := range n {
			d := start.AddDate(0, 0, k*step)
			if months {
				d = start.AddDate(0, k*step, 0)
			}
			civil := time.Date(d.Year(), d.Month(), d.Day(), 0, 0, 0, 0, loc)
			y := 100*float64(s+1) + 2*float64(k) + 20*math.Sin(2*math.Pi*float64(civil.Month())/12)
			rest := fmt.Sprintf(",s%d,%d,%g\n", s, (k*7+s)%10, y)
			zb.WriteString(civil.Format(time.RFC3339) + rest)
			nb.WriteString(civil.Format("2006-01-02") + rest)
		}
	}
	dir := t.TempDir()
	read := func(name string, b []byte) *frame.Frame {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
		f, err := frame.ReadFile(path, frame.ReadOptions{})
		if err != nil {
			t.Fatal(err)
		}
		return f
	}
	return read("zoned.csv", zb.Bytes()), read("naive.csv", nb.Bytes())
}

func mustZone(t *testing.T, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

// sameColumns reports the first column of want whose values differ in got
// (NaN equal to NaN), or "".
func sameColumns(got, want *frame.Frame) string {
	for _, w := range want.Columns() {
		if w.Kind != frame.Numeric {
			continue
		}
		g, ok := got.Lookup(w.Name)
		if !ok {
			return w.Name + " (absent)"
		}
		eq := func(a, b float64) bool { return a == b || math.IsNaN(a) && math.IsNaN(b) }
		if !slices.EqualFunc(g.Num, w.Num, eq) {
			return fmt.Sprintf("%s: %v, want %v", w.Name, g.Num, w.Num)
		}
	}
	return ""
}

var zonedCases = []struct {
	name   string
	zone   string
	start  time.Time
	n      int
	step   int
	months bool
}{
	{"monthly +02:00", "Etc/GMT-2", time.Date(2018, 1, 1, 0, 0, 0, 0, time.UTC), 48, 1, true},
	{"monthly Europe/Berlin (DST)", "Europe/Berlin", time.Date(2018, 1, 1, 0, 0, 0, 0, time.UTC), 48, 1, true},
	{"monthly -05:00", "Etc/GMT+5", time.Date(2018, 1, 1, 0, 0, 0, 0, time.UTC), 48, 1, true},
	{"daily +05:30", "Asia/Kolkata", time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC), 60, 1, false},
	{"daily Europe/Berlin over a DST switch", "Europe/Berlin", time.Date(2020, 3, 1, 0, 0, 0, 0, time.UTC), 60, 1, false},
	{"weekly America/Los_Angeles (DST)", "America/Los_Angeles", time.Date(2019, 12, 30, 0, 0, 0, 0, time.UTC), 60, 7, false},
}

// TestTemporalZonedTimes checks that data written with UTC offsets get the
// features of the same civil times written without: monthly data stay
// monthly (their lags were all NaN, the period a day or 28 days), and
// calendar parts are those of the date as written (2020-01-01+02:00 was
// December in UTC).
func TestTemporalZonedTimes(t *testing.T) {
	for _, tt := range zonedCases {
		t.Run(tt.name, func(t *testing.T) {
			zoned, naive := zonedPanel(t, mustZone(t, tt.zone), tt.start, tt.n, tt.step, tt.months)
			tr := Temporal{TimeColumn: "date", Target: "y", SegmentColumn: "seg", LagColumns: []string{"x"}}
			_, want, err := tr.FitTransform(context.Background(), naive)
			if err != nil {
				t.Fatal(err)
			}
			ft, got, err := tr.FitTransform(context.Background(), zoned)
			if err != nil {
				t.Fatal(err)
			}
			if d := sameColumns(got, want); d != "" {
				t.Errorf("FitTransform of the zoned file differs from the naive one: %s", d)
			}
			// Rows of later periods of each segment know the period before.
			lag := column(t, got, "y_lag1")
			if nan := slices.IndexFunc(lag[1:tt.n], math.IsNaN); nan >= 0 {
				t.Errorf("y_lag1 of row %d is NaN; the period before is known", nan+1)
			}
			// Transform of new rows (here the training rows) agrees too.
			if x, err := ft.Transform(zoned); err != nil {
				t.Fatal(err)
			} else if d := sameColumns(x, got); d != "" {
				t.Errorf("Transform differs from FitTransform: %s", d)
			}
		})
	}
}

// TestDesignZonedTimes checks the design's datetime parts (year, month,
// day of week) are those of the civil time as written.
func TestDesignZonedTimes(t *testing.T) {
	for _, tt := range zonedCases {
		t.Run(tt.name, func(t *testing.T) {
			zoned, naive := zonedPanel(t, mustZone(t, tt.zone), tt.start, tt.n, tt.step, tt.months)
			matrix := func(f *frame.Frame) ([]string, []float64) {
				d, err := FitDesign(context.Background(), f, DesignSpec{DropColumns: []string{"y"}})
				if err != nil {
					t.Fatal(err)
				}
				m, err := d.Matrix(f)
				if err != nil {
					t.Fatal(err)
				}
				return d.FeatureNames(), m.Data
			}
			wantNames, want := matrix(naive)
			gotNames, got := matrix(zoned)
			if !slices.Equal(gotNames, wantNames) || !slices.Equal(got, want) {
				t.Errorf("design of the zoned file: %q; of the naive one %q (or their values differ)", gotNames, wantNames)
			}
		})
	}
}

// TestZonedStatesSavedInUTC checks that fitted states saved before offsets
// were kept (version 1, which read datetimes in UTC) still transform zoned
// data in UTC, so a saved model predicts as it did, and that a state saved
// now keeps reading civil time after a round trip.
func TestZonedStatesSavedInUTC(t *testing.T) {
	zoned, _ := zonedPanel(t, mustZone(t, "Europe/Berlin"), time.Date(2018, 1, 1, 0, 0, 0, 0, time.UTC), 48, 1, true)
	utc := stripOffsets(t, zoned)
	tr := Temporal{TimeColumn: "date", Target: "y", SegmentColumn: "seg"}
	ctx := context.Background()
	asV1 := func(v any) []byte {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		var m map[string]any
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatal(err)
		}
		if m["version"] != 2.0 {
			t.Fatalf("state with a datetime column saved as version %v; want 2", m["version"])
		}
		m["version"] = 1
		b, _ = json.Marshal(m)
		return b
	}

	// Fitted on UTC seconds, as tabforge did before offsets were kept.
	ftUTC, err := tr.fit(ctx, utc)
	if err != nil {
		t.Fatal(err)
	}
	var old FittedTemporal
	if err := json.Unmarshal(asV1(ftUTC), &old); err != nil {
		t.Fatal(err)
	}
	want, _ := ftUTC.Transform(utc)
	got, err := old.Transform(zoned)
	if err != nil {
		t.Fatal(err)
	}
	if d := sameColumns(got, want); d != "" {
		t.Errorf("a version 1 temporal state read zoned data in civil time: %s", d)
	}
	dUTC, err := FitDesign(ctx, utc, DesignSpec{})
	if err != nil {
		t.Fatal(err)
	}
	var oldDesign Design
	if err := json.Unmarshal(asV1(dUTC), &oldDesign); err != nil {
		t.Fatal(err)
	}
	mw, _ := dUTC.Matrix(utc)
	mg, err := oldDesign.Matrix(zoned)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(mg.Data, mw.Data) {
		t.Error("a version 1 design read zoned data in civil time")
	}

	// Fitted now: civil time, also after a round trip.
	ft, x, err := tr.FitTransform(ctx, zoned)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(ft)
	var back FittedTemporal
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if y, err := back.Transform(zoned); err != nil {
		t.Fatal(err)
	} else if d := sameColumns(y, x); d != "" {
		t.Errorf("decoded state transforms differently: %s", d)
	}
}

// stripOffsets returns f with the offsets of its datetime columns dropped:
// the UTC instants alone, as frames held them before offsets were kept.
func stripOffsets(t *testing.T, f *frame.Frame) *frame.Frame {
	t.Helper()
	cols := slices.Clone(f.Columns())
	for j, c := range cols {
		if c.Kind == frame.Datetime {
			if c.Offsets == nil {
				t.Fatalf("column %q has no offsets to strip", c.Name)
			}
			cols[j] = frame.NewDatetime(c.Name, c.Num)
		}
	}
	return frame.MustNew(cols...)
}

// TestTemporalHourlyDST checks that hourly data written in a zone with
// daylight saving time are one period per hour of real time: when clocks
// fall back the repeated hour (01:00 at -04:00, then at -05:00) was one
// period, so the second 01:00 saw 00:00 as its lag and 02:00 the mean of
// both 01:00s; when they spring forward, 03:00 found no 02:00 and lost its
// lag.
func TestTemporalHourlyDST(t *testing.T) {
	ny := mustZone(t, "America/New_York")
	for _, start := range []time.Time{
		time.Date(2026, 3, 7, 22, 0, 0, 0, time.UTC),   // over 8 March, 02:00 → 03:00
		time.Date(2026, 10, 31, 22, 0, 0, 0, time.UTC), // over 1 November, 02:00 → 01:00
	} {
		t.Run(start.Format("2006-01-02"), func(t *testing.T) {
			var b bytes.Buffer
			b.WriteString("time,y\n")
			const hours = 48
			written := make([]string, hours)
			for h := range hours {
				written[h] = start.Add(time.Duration(h) * time.Hour).In(ny).Format(time.RFC3339)
				fmt.Fprintf(&b, "%s,%d\n", written[h], h)
			}
			path := filepath.Join(t.TempDir(), "hourly.csv")
			if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
				t.Fatal(err)
			}
			f, err := frame.ReadFile(path, frame.ReadOptions{})
			if err != nil {
				t.Fatal(err)
			}
			tr := Temporal{TimeColumn: "time", Target: "y", Lags: []int{1}, Windows: []int{}}
			ft, got, err := tr.FitTransform(context.Background(), f)
			if err != nil {
				t.Fatal(err)
			}
			// A saved state reads the hours as it was fitted to.
			state, err := json.Marshal(ft)
			if err != nil {
				t.Fatal(err)
			}
			var back FittedTemporal
			if err := json.Unmarshal(state, &back); err != nil {
				t.Fatal(err)
			}
			if x, err := back.Transform(f); err != nil {
				t.Fatal(err)
			} else if d := sameColumns(x, got); d != "" {
				t.Errorf("decoded state transforms differently: %s", d)
			}
			lag, elapsed := column(t, got, "y_lag1"), column(t, got, "time_elapsed")
			for h := 1; h < hours; h++ {
				// y is the hour's index, so the hour before holds h-1.
				if lag[h] != float64(h-1) {
					t.Errorf("hour %d (%s): y_lag1 = %v; want %d", h, written[h], lag[h], h-1)
				}
				if !(elapsed[h] > elapsed[h-1]) {
					t.Errorf("hour %d: time_elapsed %v, not after the hour before's %v", h, elapsed[h], elapsed[h-1])
				}
			}
		})
	}
}
