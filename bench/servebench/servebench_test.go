package servebench

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestRun runs the whole benchmark on a ridge model with tiny settings:
// every part must run and report, no request may fail, and both
// versions must have answered during the swaps. Nothing here is timed.
func TestRun(t *testing.T) {
	var log bytes.Buffer
	o := Options{Data: filepath.Join("..", "..", "testdata", "ames.csv"), Target: "Sale_Price", Models: []string{"ridge"},
		Rates: []int{50}, Duration: 200 * time.Millisecond, BatchRows: 300, BatchRuns: 2, Clients: 2, Swaps: 2, Log: &log}
	res, err := Run(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Rates) != 1 || res.Rates[0].Requests == 0 || res.Rates[0].Errors != 0 || res.Rates[0].P50 <= 0 || res.Rates[0].Max < res.Rates[0].P99 {
		t.Errorf("rate result %+v", res.Rates)
	}
	if len(res.Batches) != 2 {
		t.Fatalf("batches %+v", res.Batches)
	}
	for _, b := range res.Batches {
		if b.Errors != 0 || len(b.Times) != 2 || b.Rows != 300 {
			t.Errorf("batch %+v", b)
		}
	}
	s := res.Swap
	if s.Failed != 0 || s.Served != 2 || s.Requests == 0 || s.Versions[res.Versions[0]] == 0 || s.Versions[res.Versions[1]] == 0 || len(s.Versions) != 2 {
		t.Errorf("swaps %+v (versions %v)", s, res.Versions)
	}
	var out bytes.Buffer
	if err := Print(&out, res); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"p99", "batch of 300 rows (json", "batch of 300 rows (csv", "2 clients, 2 alternating promote/rollback swaps"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("printed result lacks %q:\n%s", want, out.String())
		}
	}
}

// TestRunErrors: bad inputs are errors that say what is wrong.
func TestRunErrors(t *testing.T) {
	ames := filepath.Join("..", "..", "testdata", "ames.csv")
	for _, c := range []struct {
		o    Options
		want string
	}{
		{Options{Target: "Sale_Price"}, "data file"},
		{Options{Data: ames, Target: "nope"}, `no column "nope"`},
		{Options{Data: "missing.csv", Target: "y"}, "missing.csv"},
		{Options{Data: ames, Target: "Sale_Price", Model: "missing.tfm"}, "--model"},
	} {
		_, err := Run(context.Background(), c.o)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Run(%+v) = %v; want an error naming %q", c.o, err, c.want)
		}
	}
}
