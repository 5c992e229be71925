package serve

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"net/http"
	"runtime"
	"slices"
	"sync"
	"testing"
)

// TestPooledBuffersConcurrent sends dataframe_split and text/csv bodies
// of different sizes and cells from several clients at once, so each
// request's body and columns reuse the memory of others' that finished:
// every answer must be exactly the prediction of its own rows, and every
// prediction log line must hold its own request's inputs. Run with -race,
// it also shows that nothing reads a pooled buffer after it went back.
func TestPooledBuffersConcurrent(t *testing.T) {
	reg, arts := newRegistry(t)
	houses := trainModel(t, reg, arts, "ames.csv", "Sale_Price", "ridge", "houses", 1)
	promote(t, reg, houses.Version)
	var log syncBuffer
	f := start(t, reg, Options{PredictionLog: &log, LogInputs: true, MaxConcurrent: 4})

	header, all := csvRows(t, "ames.csv", 400)
	drop := slices.Index(header, "Sale_Price")
	header = slices.Delete(slices.Clone(header), drop, drop+1)
	for i := range all {
		all[i] = slices.Delete(slices.Clone(all[i]), drop, drop+1)
	}
	// Batches of 1 to 300 rows from different places: a small request
	// after a large one reuses a buffer holding the large one's cells.
	type batch struct {
		body, csvBody []byte
		inputs        string // the log's inputs_csv for these rows
		want          []float64
	}
	var batches []batch
	for i, n := range []int{300, 1, 37, 5, 120, 2, 64} {
		rows := all[i*7 : i*7+n]
		_, want := wantPredictions(t, reg, houses.Version, writeCSV(t, t.TempDir(), header, rows))
		bodies := mlflowBodies(header, rows)
		batches = append(batches, batch{body: bodies["dataframe_split"], csvBody: bodies["csv"], inputs: inputsCSV(t, header, rows), want: want.Values})
	}

	const clients, rounds = 4, 12
	var wg sync.WaitGroup
	errs := make(chan error, clients*rounds)
	for c := range clients {
		wg.Go(func() {
			for r := range rounds {
				b := batches[(c*3+r)%len(batches)]
				body, ct := b.body, "application/json"
				if r%4 == 3 {
					body, ct = b.csvBody, "text/csv"
				}
				id := fmt.Sprintf("c%d-r%d", c, r)
				req, err := http.NewRequest(http.MethodPost, f.url+"/v1/models/houses/invocations", bytes.NewReader(body))
				if err != nil {
					errs <- err
					return
				}
				req.Header.Set("Content-Type", ct)
				req.Header.Set("X-Request-Id", id)
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					errs <- err
					return
				}
				var got struct{ Predictions []float64 }
				err = json.NewDecoder(resp.Body).Decode(&got)
				resp.Body.Close()
				if err != nil || resp.StatusCode != http.StatusOK {
					errs <- fmt.Errorf("%s: status %d, %v", id, resp.StatusCode, err)
					return
				}
				if !slices.Equal(got.Predictions, b.want) {
					errs <- fmt.Errorf("%s (%s, %d rows): predictions %v, want %v", id, ct, len(b.want), got.Predictions, b.want)
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}

	lines := log.lines(t, f)
	if len(lines) != clients*rounds {
		t.Fatalf("%d log lines, want %d", len(lines), clients*rounds)
	}
	for _, l := range lines {
		var c, r int
		if _, err := fmt.Sscanf(l.RequestID, "c%d-r%d", &c, &r); err != nil {
			t.Fatalf("log line of request %q: %v", l.RequestID, err)
		}
		b := batches[(c*3+r)%len(batches)]
		want := b.inputs
		if r%4 == 3 {
			want = string(b.csvBody)
		}
		if l.Inputs != want {
			t.Errorf("log line of %s: inputs_csv\n%.200q...\nwant\n%.200q...", l.RequestID, l.Inputs, want)
		}
	}
}

// inputsCSV is the CSV text the prediction log keeps for JSON rows.
func inputsCSV(t *testing.T, header []string, rows [][]string) string {
	t.Helper()
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	w.Write(header)
	for _, r := range rows {
		rec := make([]string, len(r))
		for j, s := range r {
			if s == "NA" { // jsonCell sends NA as null, an empty cell
				s = ""
			}
			rec[j] = s
		}
		w.Write(rec)
	}
	w.Flush()
	if err := w.Error(); err != nil {
		t.Fatal(err)
	}
	return buf.String()
}

// TestPoolsDropOversize sends one large dataframe_split request and then
// small ones: the large request's body and columns must not stay in the
// pools for the small ones to carry forever, or one large batch would
// pin its memory for the life of the server.
func TestPoolsDropOversize(t *testing.T) {
	// sync.Pool keeps a pool per P: with several, a small request may run
	// on another P than the one the large body went back to, get a fresh
	// buffer, and leave the large one pooled untouched (the test then
	// failed now and then on 2 cores). On one P every request takes what
	// the one before gave back.
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	reg, arts := newRegistry(t)
	houses := trainModel(t, reg, arts, "ames.csv", "Sale_Price", "ridge", "houses", 1)
	promote(t, reg, houses.Version)
	f := start(t, reg, Options{MaxConcurrent: 1})

	header, rows := csvRows(t, "ames.csv", 2000)
	drop := slices.Index(header, "Sale_Price")
	header = slices.Delete(slices.Clone(header), drop, drop+1)
	for i := range rows {
		rows[i] = slices.Delete(slices.Clone(rows[i]), drop, drop+1)
	}
	large := mlflowBodies(header, rows)["dataframe_split"]
	small := mlflowBodies(header, rows[:1])["dataframe_split"]
	for _, body := range [][]byte{large, small, small, small} {
		if code, out, _ := f.post("/v1/models/houses/invocations", "application/json", body); code != http.StatusOK {
			t.Fatalf("%d bytes: status %d: %s", len(body), code, out)
		}
	}
	// Whatever the pools hold now, the small requests used last; a buffer
	// may be some times larger than its use, but not the large body's size.
	limit := max(4*len(small), 256<<10)
	if limit >= len(large)/2 {
		t.Fatalf("bodies of %d and %d bytes are too alike for the test", len(large), len(small))
	}
	for range 16 {
		if b := f.srv.bodies.get(); b != nil && cap(b) > limit {
			t.Errorf("body pool holds a buffer of %d bytes after requests of %d (the large one was %d)", cap(b), len(small), len(large))
		}
		if cols := f.srv.columns.get(); cols != nil {
			if _, held := columnBytes(cols); held > limit {
				t.Errorf("column pool holds %d bytes after requests of %d (the large one was %d)", held, len(small), len(large))
			}
		}
	}
}
