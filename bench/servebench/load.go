package servebench

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/tabforge/tabforge/registry"
)

// requestTimeout bounds one request of the generator; a request that
// takes longer counts as an error.
const requestTimeout = 10 * time.Second

// maxConns bounds the generator's connections. Client and server share
// this process's file descriptors, and an overloaded server would
// otherwise draw one new connection per waiting request until accept
// and dial fail with "too many open files"; beyond it requests wait in
// the client, and their wait counts in their latency.
const maxConns = 512

// load sends requests to one MLflow invocations URL over one pool of
// connections, which every phase shares and empties when it ends.
type load struct {
	url    string
	tr     *http.Transport
	client *http.Client
}

func newLoad(url string) *load {
	tr := &http.Transport{MaxConnsPerHost: maxConns, MaxIdleConnsPerHost: maxConns, IdleConnTimeout: time.Minute}
	return &load{url: url, tr: tr, client: &http.Client{Timeout: requestTimeout, Transport: tr}}
}

// attacker returns a vegeta attacker on l's connections.
func (l *load) attacker(opts ...func(*vegeta.Attacker)) *vegeta.Attacker {
	return vegeta.NewAttacker(append([]func(*vegeta.Attacker){vegeta.Client(l.client)}, opts...)...)
}

// targets makes vegeta targets of JSON bodies; a static targeter sends
// them round-robin.
func (l *load) targets(bodies [][]byte) vegeta.Targeter {
	h := http.Header{"Content-Type": []string{"application/json"}}
	ts := make([]vegeta.Target, len(bodies))
	for i, b := range bodies {
		ts[i] = vegeta.Target{Method: http.MethodPost, URL: l.url, Body: b, Header: h}
	}
	return vegeta.NewStaticTargeter(ts...)
}

// post sends one body and returns the response body, failing on any
// answer but 200.
func (l *load) post(ctx context.Context, contentType string, body []byte) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, l.url, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", contentType)
	resp, err := l.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	if err == nil && resp.StatusCode != http.StatusOK {
		err = fmt.Errorf("status %d: %s", resp.StatusCode, bytes.TrimSpace(out))
	}
	return out, err
}

// warmUp sends every single-row body once, in turn: it opens a
// connection, touches the code paths, and fails early and clearly when
// the rows do not fit the model.
func (l *load) warmUp(ctx context.Context, bodies [][]byte) error {
	for i, b := range bodies {
		if _, err := l.post(ctx, "application/json", b); err != nil {
			return fmt.Errorf("bench serve: warm-up request %d: %w", i+1, err)
		}
	}
	return nil
}

// attack runs a until its results end (or ctx is done, which stops it),
// handing each result to each.
func attack(ctx context.Context, a *vegeta.Attacker, results <-chan *vegeta.Result, each func(*vegeta.Result)) {
	done := make(chan struct{})
	defer close(done)
	go func() {
		select {
		case <-ctx.Done():
			a.Stop()
		case <-done:
		}
	}()
	for r := range results {
		each(r)
	}
}

func failed(r *vegeta.Result) bool { return r.Error != "" || r.Code != http.StatusOK }

// resultError describes a failed result: the transport error, or the
// status and the start of the answer.
func resultError(r *vegeta.Result) string {
	if r.Error != "" {
		return r.Error
	}
	body := bytes.TrimSpace(r.Body)
	return fmt.Sprintf("status %d: %s", r.Code, body[:min(len(body), 200)])
}

// constantRate sends single-row bodies at rate per second for d.
func (l *load) constantRate(ctx context.Context, bodies [][]byte, rate int, d time.Duration) (RateResult, error) {
	defer l.tr.CloseIdleConnections()
	a := l.attacker()
	var m vegeta.Metrics
	out := RateResult{Rate: rate, Duration: d}
	name := "rate-" + strconv.Itoa(rate)
	attack(ctx, a, a.Attack(l.targets(bodies), vegeta.Rate{Freq: rate, Per: time.Second}, d, name), func(r *vegeta.Result) {
		m.Add(r)
		if failed(r) {
			out.Errors++
			if out.FirstError == "" {
				out.FirstError = resultError(r)
			}
		}
	})
	m.Close()
	if err := ctx.Err(); err != nil {
		return out, err
	}
	out.Requests, out.Achieved = m.Requests, m.Rate
	out.P50, out.P90, out.P99, out.Max = m.Latencies.P50, m.Latencies.P90, m.Latencies.P99, m.Latencies.Max
	return out, nil
}

// batch sends one body of rows rows runs times in a row and times each
// from send to the last byte of the answer.
func (l *load) batch(ctx context.Context, rs *rowSet, format string, rows, runs int) (BatchResult, error) {
	body, err := rs.batchBody(format, rows)
	if err != nil {
		return BatchResult{}, fmt.Errorf("bench serve: batch body: %w", err)
	}
	contentType := map[string]string{"json": "application/json", "csv": "text/csv"}[format]
	out := BatchResult{Format: format, Rows: rows, Bytes: len(body)}
	for range runs {
		start := time.Now()
		_, err := l.post(ctx, contentType, body)
		if ctx.Err() != nil {
			return out, ctx.Err()
		}
		if err != nil {
			out.Errors++
			continue
		}
		out.Times = append(out.Times, time.Since(start))
	}
	slices.Sort(out.Times)
	return out, nil
}

// swapWatch is the swap being waited for: its version and when the
// registry change was made. The result consumer closes seen when a
// request sent after changed is answered by want.
type swapWatch struct {
	mu      sync.Mutex
	want    string
	changed time.Time
	seen    chan struct{}
	hit     bool
	took    time.Duration
}

func (w *swapWatch) set(want string) <-chan struct{} {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.want, w.changed, w.seen, w.hit, w.took = want, time.Now(), make(chan struct{}), false, 0
	return w.seen
}

func (w *swapWatch) observe(r *vegeta.Result) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.seen == nil || w.hit || r.Headers.Get("X-Model-Version") != w.want || r.Timestamp.Before(w.changed) {
		return
	}
	w.hit, w.took = true, r.End().Sub(w.changed)
	close(w.seen)
}

func (w *swapWatch) serveTime() time.Duration {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.took
}

// swaps runs clients workers sending single rows back to back while the
// registry alternates promoting the second version and rolling back.
func (l *load) swaps(ctx context.Context, bodies [][]byte, clients, swaps int, st *benchStore) (SwapResult, error) {
	defer l.tr.CloseIdleConnections()
	n := uint64(clients)
	a := l.attacker(vegeta.Workers(n), vegeta.MaxWorkers(n))
	out := SwapResult{Clients: clients, Swaps: swaps, Versions: map[string]uint64{}}
	var w swapWatch
	consumed := make(chan struct{})
	results := a.Attack(l.targets(bodies), vegeta.Rate{}, 0, "swaps") // zero rate: as fast as the workers go
	go func() {
		defer close(consumed)
		attack(ctx, a, results, func(r *vegeta.Result) {
			out.Requests++
			if failed(r) {
				out.Failed++
				if out.FirstError == "" {
					out.FirstError = resultError(r)
				}
			}
			out.Versions[r.Headers.Get("X-Model-Version")]++
			w.observe(r)
		})
	}()
	err := l.swapLoop(ctx, swaps, st, &w, &out)
	a.Stop()
	<-consumed
	return out, err
}

// swapLoop makes the registry changes, each after the previous one was
// served (or SwapTimeout passed).
func (l *load) swapLoop(ctx context.Context, swaps int, st *benchStore, w *swapWatch, out *SwapResult) error {
	for i := range swaps {
		want := st.versions[1]
		if i%2 == 0 {
			if _, err := st.reg.Promote(ctx, want, registry.Production, registry.PromoteOptions{Force: true, Reason: "bench serve"}); err != nil {
				return fmt.Errorf("bench serve: swap %d: %w", i+1, err)
			}
		} else {
			e, err := st.reg.Rollback(ctx, st.name, registry.PromoteOptions{Reason: "bench serve"})
			if err != nil {
				return fmt.Errorf("bench serve: swap %d: %w", i+1, err)
			}
			want = e.Version
		}
		seen := w.set(want)
		select {
		case <-seen:
			out.Served++
			out.MaxServe = max(out.MaxServe, w.serveTime())
		case <-time.After(SwapTimeout):
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}
