package serve

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"testing"

	"github.com/tabforge/tabforge/internal/cputime"
)

// BenchmarkInvocations measures one MLflow request over loopback, end to
// end (client send, HTTP, decode, predict, encode, client read), on the
// ames ridge model: single rows and a 10,000-row batch (the file's rows
// repeated), as a text/csv body and as dataframe_split JSON.
func BenchmarkInvocations(b *testing.B) {
	reg, arts := newRegistry(b)
	m := trainModel(b, reg, arts, "ames.csv", "Sale_Price", "ridge", "houses", 1)
	promote(b, reg, m.Version)
	f := start(b, reg, Options{})
	header, rows := csvRows(b, "ames.csv", 2000)
	for _, n := range []int{1, 10_000} {
		batch := make([][]string, n)
		for i := range batch {
			batch[i] = rows[i%len(rows)]
		}
		benchPosts(b, f.url, fmt.Sprint("rows=", n), mlflowBodies(header, batch))
	}
}

// benchPosts posts each format's body to url's /invocations as a
// sub-benchmark named name/format, reporting the CPU time per request
// (server and client, this process), which is steadier than wall time on
// a shared machine.
func benchPosts(b *testing.B, url, name string, bodies map[string][]byte) {
	for _, format := range []string{"csv", "dataframe_split"} {
		contentType := map[string]string{"csv": "text/csv", "dataframe_split": "application/json"}[format]
		b.Run(name+"/"+format, func(b *testing.B) {
			cpu := cputime.Now()
			for b.Loop() {
				resp, err := http.Post(url+"/invocations", contentType, bytes.NewReader(bodies[format]))
				if err != nil || resp.StatusCode != http.StatusOK {
					b.Fatal(resp, err)
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
			b.ReportMetric(float64(cputime.Now()-cpu)/float64(b.N)/1e6, "cpu-ms/op")
		})
	}
}
