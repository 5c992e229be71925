package features

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/tabforge/tabforge/frame"
)

// TestMonthlyRule checks that Temporal (its month unit) and the design
// (year and month without a day of week) call the same datetimes
// monthly: midnight on the first day of each month, or each on the last,
// in the civil time written, but for a few strays (see fewStrays).
func TestMonthlyRule(t *testing.T) {
	// months returns n civil times in loc from January 2018, one a month,
	// on day 1 (or the last day when last is set) at hour.
	months := func(loc *time.Location, n int, last bool, hour int) []time.Time {
		out := make([]time.Time, n)
		for k := range out {
			d := time.Date(2018, time.Month(1+k), 1, hour, 0, 0, 0, loc)
			if last {
				d = time.Date(2018, time.Month(2+k), 0, hour, 0, 0, 0, loc)
			}
			out[k] = d
		}
		return out
	}
	days := func(from time.Time, n, step int) []time.Time {
		out := make([]time.Time, n)
		for k := range out {
			out[k] = from.AddDate(0, 0, k*step)
		}
		return out
	}
	utc := time.UTC
	berlin, newYork := mustZone(t, "Europe/Berlin"), mustZone(t, "America/New_York")
	tests := []struct {
		name    string
		times   []time.Time
		monthly bool
	}{
		{"first days", months(utc, 24, false, 0), true},
		{"last days", months(utc, 24, true, 0), true},
		{"mid-month days", days(time.Date(2018, 1, 15, 0, 0, 0, 0, utc), 24, 28), false},
		{"first days, one mid-month stray", append(months(utc, 24, false, 0), time.Date(2019, 6, 15, 0, 0, 0, 0, utc)), true},
		{"last days, one 13:00 stray", append(months(utc, 24, true, 0), time.Date(2019, 6, 30, 13, 0, 0, 0, utc)), true},
		{"first days, two mid-month days in 11", append(months(utc, 9, false, 0), days(time.Date(2019, 6, 15, 0, 0, 0, 0, utc), 2, 30)...), false},
		// The first of every month at 01:00 is a time of day, not a month.
		{"first days at 01:00", months(utc, 24, false, 1), false},
		{"first days in Berlin (DST)", months(berlin, 24, false, 0), true},
		{"last days in New York (DST)", months(newYork, 24, true, 0), true},
		{"daily in Berlin (DST)", days(time.Date(2018, 3, 1, 0, 0, 0, 0, berlin), 60, 1), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			secs := make([]float64, len(tt.times))
			offsets := make([]int32, len(tt.times))
			for i, v := range tt.times {
				_, off := v.Zone()
				secs[i], offsets[i] = float64(v.Unix()), int32(off)
			}
			f := frame.MustNew(frame.NewDatetimeOffsets("d", secs, offsets))
			ft, err := Temporal{TimeColumn: "d"}.fit(context.Background(), f)
			if err != nil {
				t.Fatal(err)
			}
			if got := ft.unit == unitMonth; got != tt.monthly {
				t.Errorf("Temporal: unit %q; want monthly %v", ft.unit, tt.monthly)
			}
			names := mustFit(t, f, DesignSpec{}).FeatureNames()
			if got := !slices.Contains(names, "d_dow"); got != tt.monthly {
				t.Errorf("design: features %q; want monthly (no d_dow) %v", names, tt.monthly)
			}
		})
	}
}
