package features

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/tabforge/tabforge/frame"
)

// seq returns n ordinals from, from+step, …
func seq(from, step float64, n int) []float64 {
	out := make([]float64, n)
	for i := range out {
		out[i] = from + float64(i)*step
	}
	return out
}

// smallestGap returns the smallest gap between distinct sorted values,
// the step timeGrid has always given irregular non-whole ordinals.
func smallestGap(sorted []float64) float64 {
	g := math.Inf(1)
	for i := 1; i < len(sorted); i++ {
		if d := sorted[i] - sorted[i-1]; d > 0 {
			g = min(g, d)
		}
	}
	return g
}

func TestTimeGrid(t *testing.T) {
	// Hourly instants in days: k/24 is not exact, so the step is the
	// smallest gap, a hair off 1/24.
	hourly := seq(20520, 1.0/24, 72)
	irregular := []float64{0.5, 1.7, 2.0, 3.3}
	// Daily ordinals (whole civil days) with one record at 13:37.
	stray := 13.0/24 + 37.0/1440
	daily := seq(20454, 1, 60)
	dailyStray := append(append([]float64{}, daily...), 20454+30+stray)
	// The stray is the first record: its day is the first period.
	dailyStrayFirst := append([]float64{20453 + stray}, daily...)
	// Weekly data with one record a day late, a whole-number stray.
	weeklyLate := append(seq(0, 7, 20), 7*20+1, 7*21)
	hourlyStray := append(append([]float64{}, hourly...), hourly[10]+stray/24)
	// Weekly data whose record came a day late in three holiday weeks
	// (the usual day empty), and weekly data with a second record in
	// three weeks, a finer pattern.
	weeklyHolidays, weeklyExtra := seq(0, 7, 52), seq(0, 7, 52)
	for _, w := range []int{20, 33, 46} {
		weeklyHolidays[w]++
		weeklyExtra = append(weeklyExtra, float64(7*w+1))
	}
	tests := []struct {
		name         string
		ord          []float64
		origin, step float64
	}{
		{"empty", nil, 0, 1},
		{"all missing", []float64{nan, nan}, 0, 1},
		{"one time", []float64{5, 5, nan}, 5, 1},
		{"hourly", hourly, hourly[0], smallestGap(hourly)},
		{"daily with missing days", []float64{10, 11, 13, 14, 14, 17, nan}, 10, 1},
		{"weekly", seq(3, 7, 30), 3, 7},
		{"monthly", seq(24000, 1, 48), 24000, 1},
		{"quarterly months", seq(24000, 3, 16), 24000, 3},
		{"every other year", []float64{2004, 2000, 2002}, 2000, 2},
		{"irregular whole", []float64{2000, 2001, 2003, 2010}, 2000, 1},
		{"irregular non-whole", irregular, 0.5, smallestGap(irregular)},
		// Business days: gaps of 1 and 3 days, the grid is daily.
		{"business days", []float64{0, 1, 2, 3, 4, 7, 8, 9, 10, 11, 14, 15, 16, 17, 18}, 0, 1},
		{"daily, one stray time", dailyStray, 20454, 1},
		{"daily, the first time a stray", dailyStrayFirst, 20453, 1},
		{"weekly, one record a day late", weeklyLate, 0, 7},
		{"hourly, one stray time", hourlyStray, hourly[0], smallestGap(hourly)},
		{"weekly, three holiday weeks a day late", weeklyHolidays, 0, 7},
		{"weekly, a second record in three weeks", weeklyExtra, 0, 1},
		// A step far coarser than the gaps it would merge is no grid.
		{"tiny gaps, one huge", append(seq(0, 1e-300, 12), 1e300), 0, 1e-300},
		{"daily, one far-off time", append(seq(0, 1, 60), 1e7+0.5), 0, 1},
		// Two odd times in 22 are no strays (more than 1%, and not one):
		// the grid is their greatest common divisor.
		{"two odd times", append(seq(0, 2, 20), 7, 13), 0, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := append([]float64{}, tt.ord...)
			origin, step := timeGrid(tt.ord)
			if origin != tt.origin || math.Abs(step-tt.step) > 1e-12*tt.step {
				t.Errorf("timeGrid(%v) = (%v, %v); want (%v, %v)", tt.ord, origin, step, tt.origin, tt.step)
			}
			for i := range in {
				if in[i] != tt.ord[i] && !(math.IsNaN(in[i]) && math.IsNaN(tt.ord[i])) {
					t.Fatalf("timeGrid modified its input at %d", i)
				}
			}
		})
	}
}

// timedRow is one row of a generated series: when it was written, and
// the index of its period, which is also its y.
type timedRow struct {
	at     time.Time
	period int
}

// readTimed writes rows as a CSV file of RFC 3339 times with their UTC
// offsets in loc and y, and reads it back as a user's file would be.
func readTimed(t *testing.T, loc *time.Location, rows []timedRow) *frame.Frame {
	t.Helper()
	var b bytes.Buffer
	b.WriteString("time,y\n")
	for _, r := range rows {
		fmt.Fprintf(&b, "%s,%d\n", r.at.In(loc).Format(time.RFC3339), r.period)
	}
	path := filepath.Join(t.TempDir(), "series.csv")
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := frame.ReadFile(path, frame.ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// TestTemporalStrayTime checks that one record at an odd time of day does
// not change the period of data written in a zone with daylight saving
// time: one 13:37 record made the period of daily data 10 hours 23
// minutes, so that nearly every lag was NaN, and one at 10:37 made that
// of hourly data 23 minutes. Daily data with a second record on one date
// were read as recorded within days, by instant, where 23- and 25-hour
// days leave no daily grid; monthly data with one mid-month record as
// daily, with one-day lags.
// Each row's y is its period's index, so its lag is the index before.
func TestTemporalStrayTime(t *testing.T) {
	ny := mustZone(t, "America/New_York")
	day := func(k int) time.Time { return time.Date(2026, 1, 1+k, 0, 0, 0, 0, ny) }
	const days = 330 // over 8 March and 1 November
	daily := func(at func(k int) time.Time) []timedRow {
		rows := make([]timedRow, days)
		for k := range rows {
			rows[k] = timedRow{at(k), k}
		}
		return rows
	}
	odd := 13*time.Hour + 37*time.Minute
	month := func(k int) time.Time { return time.Date(2018, time.Month(1+k), 1, 0, 0, 0, 0, ny) }
	hour0 := time.Date(2026, 3, 7, 22, 0, 0, 0, time.UTC) // over 8 March, 02:00 → 03:00
	tests := []struct {
		name string
		rows []timedRow
	}{
		{"daily, a second time on one date", append(daily(day), timedRow{day(165).Add(odd), 165})},
		{"daily, one date at 13:37", daily(func(k int) time.Time {
			if k == 100 {
				return day(k).Add(odd)
			}
			return day(k)
		})},
		{"daily, the first date at 13:37", daily(func(k int) time.Time {
			if k == 0 {
				return day(k).Add(odd)
			}
			return day(k)
		})},
		// 2 of 104 weeks are more than 1%: the data read as daily, lags
		// a day back, NaN on all but those two rows.
		{"weekly, two holiday weeks a day late", func() []timedRow {
			rows := make([]timedRow, 104)
			for w := range rows {
				rows[w] = timedRow{day(7 * w), w}
				if w == 47 || w == 51 {
					rows[w].at = day(7*w + 1)
				}
			}
			return rows
		}()},
		{"monthly, one mid-month date", func() []timedRow {
			rows := make([]timedRow, 48)
			for k := range rows {
				rows[k] = timedRow{month(k), k}
			}
			return append(rows, timedRow{month(16).AddDate(0, 0, 14), 16})
		}()},
		// A record dated mid-month in 2 of 48 months (more than 1%), in
		// place of its month's first: the data read as daily.
		{"monthly, two months dated mid-month", func() []timedRow {
			rows := make([]timedRow, 48)
			for k := range rows {
				rows[k] = timedRow{month(k), k}
				if k == 16 || k == 30 {
					rows[k].at = month(k).AddDate(0, 0, 14)
				}
			}
			return rows
		}()},
		{"hourly, one time at 37 minutes past", func() []timedRow {
			rows := make([]timedRow, 48)
			for h := range rows {
				rows[h] = timedRow{hour0.Add(time.Duration(h) * time.Hour), h}
			}
			return append(rows, timedRow{hour0.Add(10*time.Hour + 37*time.Minute), 10})
		}()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := readTimed(t, ny, tt.rows)
			tr := Temporal{TimeColumn: "time", Target: "y", Lags: []int{1}, Windows: []int{}}
			ft, got, err := tr.FitTransform(context.Background(), f)
			if err != nil {
				t.Fatal(err)
			}
			lag := column(t, got, "y_lag1")
			wrong := 0
			for i, r := range tt.rows {
				want := float64(r.period - 1)
				if r.period == 0 {
					want = nan
				}
				if lag[i] != want && !(math.IsNaN(want) && math.IsNaN(lag[i])) {
					if wrong++; wrong <= 3 {
						t.Errorf("row %d (%s): y_lag1 = %v; want %v", i, r.at.In(ny).Format(time.RFC3339), lag[i], want)
					}
				}
			}
			if wrong > 0 {
				t.Errorf("%d of %d rows have a wrong y_lag1 (unit %s, step %v)", wrong, len(tt.rows), ft.(*FittedTemporal).unit, ft.(*FittedTemporal).step)
			}
		})
	}
}

func TestDatetimeUnit(t *testing.T) {
	days := func(from time.Time, n, step int) []float64 {
		out := make([]float64, n)
		for k := range out {
			out[k] = float64(from.AddDate(0, 0, k*step).Unix())
		}
		return out
	}
	months := func(n int, last bool) []float64 {
		out := make([]float64, n)
		for k := range out {
			d := time.Date(2018, time.Month(1+k), 1, 0, 0, 0, 0, time.UTC)
			if last {
				d = d.AddDate(0, 1, -1)
			}
			out[k] = float64(d.Unix())
		}
		return out
	}
	hours := func(from time.Time, n int) []float64 {
		out := make([]float64, n)
		for h := range out {
			out[h] = float64(from.Add(time.Duration(h) * time.Hour).Unix())
		}
		return out
	}
	jan := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	odd := float64(13*3600 + 37*60)
	tests := []struct {
		name string
		secs []float64
		want string
	}{
		{"no times", []float64{nan}, unitMonth},
		{"monthly, first days", months(48, false), unitMonth},
		{"monthly, last days", months(48, true), unitMonth},
		{"monthly, one mid-month day", append(months(48, false), months(1, false)[0]+14*86400), unitMonth},
		{"monthly, one 13:37", append(months(48, true), months(1, true)[0]+odd), unitMonth},
		// Two mid-month days in 11 are a pattern: the data are daily.
		{"monthly, two mid-month days", append(months(9, false), days(jan.AddDate(0, 0, 14), 2, 30)...), unitDay},
		// Two of 50 (4%): a month's record dated mid-month is its month's
		// only one, a second record in a month a finer pattern.
		{"monthly, two months dated mid-month", func() []float64 {
			out := months(48, false)
			out[16] += 14 * 86400
			out[30] += 14 * 86400
			return out
		}(), unitMonth},
		{"monthly, a second record in two months", append(months(48, false), months(17, false)[16]+14*86400, months(31, false)[30]+14*86400), unitDay},
		{"half the dates mid-month", append(months(24, false), days(jan.AddDate(0, 0, 14), 24, 30)...), unitDay},
		{"daily", days(jan, 60, 1), unitDay},
		{"weekly", days(jan, 60, 7), unitDay},
		{"daily, a second time on one date", append(days(jan, 60, 1), days(jan, 1, 1)[0]+odd), unitDay},
		{"hourly", hours(jan, 72), unitInstant},
		{"hourly within one date", hours(jan, 24), unitInstant},
		{"twice a day, every day", func() []float64 {
			out := days(jan, 30, 1)
			for _, v := range days(jan, 30, 1) {
				out = append(out, v+odd)
			}
			return out
		}(), unitInstant},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := datetimeUnit(tt.secs)
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("datetimeUnit = %q; want %q", got, tt.want)
			}
		})
	}
	if _, err := datetimeUnit([]float64{0, 1e300}); err == nil {
		t.Error("datetimeUnit of a time out of range: no error")
	}
}

// TestPeriodsAhead: the horizon of test rows is the distance of the
// furthest from the last training period on the grid, a stray counting
// in its period and a missing period counting as one.
func TestPeriodsAhead(t *testing.T) {
	jan := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	day := func(k int, hour, minute int) float64 {
		return float64(jan.AddDate(0, 0, k).Add(time.Duration(hour)*time.Hour + time.Duration(minute)*time.Minute).Unix())
	}
	var secs []float64
	for k := range 60 {
		secs = append(secs, day(k, 0, 0))
	}
	train := make([]int, 60)
	for i := range train {
		train[i] = i
	}
	for _, tt := range []struct {
		name string
		test []float64
		want int
	}{
		{"the next week", []float64{day(60, 0, 0), day(63, 0, 0), day(66, 0, 0)}, 7},
		{"the next week and a stray in it", []float64{day(60, 0, 0), day(62, 13, 37), day(66, 0, 0)}, 7},
		{"a stray alone in the next day", []float64{day(60, 13, 37)}, 1},
		{"a gap", []float64{day(60, 0, 0), day(69, 0, 0)}, 10},
		{"within training", []float64{day(10, 0, 0), day(59, 13, 37)}, 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			x := frame.MustNew(frame.NewDatetime("date", slices.Concat(secs, tt.test)))
			test := make([]int, len(tt.test))
			for i := range test {
				test[i] = 60 + i
			}
			got, err := Temporal{TimeColumn: "date"}.PeriodsAhead(x, train, test)
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("PeriodsAhead = %d; want %d", got, tt.want)
			}
		})
	}
	if _, err := (Temporal{TimeColumn: "when"}).PeriodsAhead(frame.MustNew(frame.NewDatetime("date", secs)), train, nil); err == nil {
		t.Error("PeriodsAhead by a missing column: no error")
	}
}
