// Package servebench measures `tabforge serve` under load: it registers
// a model twice (two versions of one name) in a throwaway SQLite store,
// serves it in-process on a loopback port, and drives it with vegeta, a
// constant-rate HTTP load generator used as a library.
//
// Three measurements follow one another: single-row MLflow requests at
// fixed rates (latency percentiles and errors per rate), one large batch
// request timed several times (JSON and CSV bodies), and clients running
// flat out while the production version is promoted and rolled back
// (failed requests, and how long after each registry change the new
// version answers). The generator shares the machine, and the process,
// with the server, so its figures are an upper bound on what a client on
// another machine would see.
package servebench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"time"

	"github.com/tabforge/tabforge/registry"
	"github.com/tabforge/tabforge/serve"
)

// Options configure Run. The zero value (with Data and Target set, or
// Model) runs the full benchmark: 500, 1000 and 2000 rps for 10 s each,
// 10 runs of a 10,000-row batch, and 20 swaps under 4 clients.
type Options struct {
	// Model is a saved model file (model.tfm, as train writes it) to
	// serve; empty trains one on Data.
	Model string
	// Data is the CSV file whose rows (without the Target column) make
	// the requests, and the training data when Model is empty.
	Data, Target string
	// TimeColumn and Models are train's --time-column and --models when
	// Model is empty (no Models: train's default, every family and
	// ensembles, as `tabforge train` picks a production model).
	TimeColumn string
	Models     []string
	// Name is the registered model name; empty: the Data file's stem.
	Name string
	// Rates are the single-row request rates in requests per second; nil
	// means 500, 1000, 2000. Duration is each rate's length (0: 10s).
	Rates    []int
	Duration time.Duration
	// BatchRows is the batch request's row count (0: 10,000; the data's
	// rows repeat as needed); BatchRuns how often it is sent (0: 10).
	BatchRows, BatchRuns int
	// Clients run flat out during Swaps alternating promotions and
	// rollbacks (0: 4 and 20).
	Clients, Swaps int
	// Log receives progress lines; nil discards them.
	Log io.Writer
}

func (o Options) withDefaults() Options {
	if o.Rates == nil {
		o.Rates = []int{500, 1000, 2000}
	}
	if o.Duration <= 0 {
		o.Duration = 10 * time.Second
	}
	if o.BatchRows <= 0 {
		o.BatchRows = 10_000
	}
	if o.BatchRuns <= 0 {
		o.BatchRuns = 10
	}
	if o.Clients <= 0 {
		o.Clients = 4
	}
	if o.Swaps <= 0 {
		o.Swaps = 20
	}
	if o.Name == "" {
		o.Name = registry.NameFromPath(o.Data)
	}
	if o.Log == nil {
		o.Log = io.Discard
	}
	return o
}

// Result is what Run measured.
type Result struct {
	Model    string        `json:"model"`    // registered name
	Family   string        `json:"family"`   // the served model's family
	Versions [2]string     `json:"versions"` // the two registered versions
	Rates    []RateResult  `json:"rates"`
	Batches  []BatchResult `json:"batches"`
	Swap     SwapResult    `json:"swap"`
}

// RateResult is one constant-rate run of single-row requests.
type RateResult struct {
	Rate     int           `json:"rate"` // requests per second asked for
	Duration time.Duration `json:"duration_ns"`
	Requests uint64        `json:"requests"`
	// Achieved is the rate the generator actually sent at.
	Achieved float64       `json:"achieved_rps"`
	P50      time.Duration `json:"p50_ns"`
	P90      time.Duration `json:"p90_ns"`
	P99      time.Duration `json:"p99_ns"`
	Max      time.Duration `json:"max_ns"`
	// Errors counts transport errors and non-200 answers.
	Errors uint64 `json:"errors"`
	// FirstError is one error message, for the reader to start from.
	FirstError string `json:"first_error,omitempty"`
}

// BatchResult is one batch request sent BatchRuns times in a row.
type BatchResult struct {
	Format string          `json:"format"` // "json" (dataframe_split) or "csv"
	Rows   int             `json:"rows"`
	Bytes  int             `json:"bytes"`
	Times  []time.Duration `json:"times_ns"` // sorted
	Errors int             `json:"errors"`
}

// Median is the batch's median time.
func (b BatchResult) Median() time.Duration {
	if len(b.Times) == 0 {
		return 0
	}
	return b.Times[len(b.Times)/2]
}

// SwapResult is the hot-swap run: Clients clients send single rows as
// fast as they can while Swaps promotions and rollbacks alternate.
type SwapResult struct {
	Clients  int    `json:"clients"`
	Swaps    int    `json:"swaps"`
	Requests uint64 `json:"requests"`
	Failed   uint64 `json:"failed"`
	// Served counts the swaps whose new version answered within
	// SwapTimeout; MaxServe is the longest time from a registry change to
	// the first answer carrying the new version to a request sent after
	// the change.
	Served   int           `json:"served"`
	MaxServe time.Duration `json:"max_serve_ns"`
	// FirstError is one failed request's error.
	FirstError string `json:"first_error,omitempty"`
	// Versions counts the answers per X-Model-Version.
	Versions map[string]uint64 `json:"versions"`
}

// SwapTimeout is how long Run waits for a swap to be served before it
// counts the swap as not served and goes on.
const SwapTimeout = 5 * time.Second

// Run trains or takes the model, serves it on 127.0.0.1 in this process
// and runs the three measurements; it stops the server before it returns.
func Run(ctx context.Context, o Options) (*Result, error) {
	o = o.withDefaults()
	if o.Data == "" || o.Target == "" {
		return nil, errors.New("bench serve: the request rows need a data file and its target column")
	}
	rows, err := readRows(o.Data, o.Target)
	if err != nil {
		return nil, err
	}
	dir, cleanup, err := tempDir()
	if err != nil {
		return nil, err
	}
	defer cleanup()
	st, err := newStore(ctx, o, dir)
	if err != nil {
		return nil, err
	}
	defer st.close()
	srv, err := serve.New(ctx, st.reg, serve.Options{Names: []string{o.Name}})
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("bench serve: %w", err)
	}
	sctx, stop := context.WithCancel(ctx)
	served := make(chan error, 1)
	go func() { served <- srv.Serve(sctx, ln) }()
	res := &Result{Model: o.Name, Family: st.family, Versions: st.versions}
	err = measure(ctx, o, "http://"+ln.Addr().String(), rows, st, res)
	stop()
	if serr := <-served; err == nil {
		err = serr
	}
	if err != nil {
		return nil, err
	}
	return res, nil
}

// measure runs the rates, the batches and the swaps against url.
func measure(ctx context.Context, o Options, url string, rows *rowSet, st *benchStore, res *Result) error {
	l := newLoad(url + "/invocations?model=" + o.Name)
	single, err := rows.singleBodies(256)
	if err != nil {
		return err
	}
	if err := l.warmUp(ctx, single); err != nil {
		return err
	}
	for _, rate := range o.Rates {
		fmt.Fprintf(o.Log, "bench serve: %d rps for %s\n", rate, o.Duration)
		r, err := l.constantRate(ctx, single, rate, o.Duration)
		if err != nil {
			return err
		}
		res.Rates = append(res.Rates, r)
	}
	for _, format := range []string{"json", "csv"} {
		fmt.Fprintf(o.Log, "bench serve: %d-row %s batch, %d runs\n", o.BatchRows, format, o.BatchRuns)
		b, err := l.batch(ctx, rows, format, o.BatchRows, o.BatchRuns)
		if err != nil {
			return err
		}
		res.Batches = append(res.Batches, b)
	}
	fmt.Fprintf(o.Log, "bench serve: %d swaps under %d clients\n", o.Swaps, o.Clients)
	sw, err := l.swaps(ctx, single, o.Clients, o.Swaps, st)
	if err != nil {
		return err
	}
	res.Swap = sw
	return nil
}

// tempDir makes the throwaway directory of the store and the model.
func tempDir() (string, func(), error) {
	dir, err := os.MkdirTemp("", "tabforge-bench-serve-")
	if err != nil {
		return "", nil, fmt.Errorf("bench serve: %w", err)
	}
	return dir, func() { os.RemoveAll(dir) }, nil
}
