package serve

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"testing"
)

// BenchmarkInvocations measures one MLflow request over loopback, end to
// end (client encode, HTTP, decode, predict, encode), on the ames ridge
// model: single rows and a 10,000-row batch.
func BenchmarkInvocations(b *testing.B) {
	reg, arts := newRegistry(b)
	m := trainModel(b, reg, arts, "ames.csv", "Sale_Price", "ridge", "houses", 1)
	promote(b, reg, m.Version)
	f := start(b, reg, Options{})
	header, rows := csvRows(b, "ames.csv", 1)
	for _, n := range []int{1, 10_000} {
		batch := make([][]string, n)
		for i := range batch {
			batch[i] = rows[0]
		}
		body := mlflowBodies(header, batch)["csv"]
		b.Run(fmt.Sprint("rows=", n), func(b *testing.B) {
			for b.Loop() {
				resp, err := http.Post(f.url+"/invocations", "text/csv", bytes.NewReader(body))
				if err != nil || resp.StatusCode != http.StatusOK {
					b.Fatal(resp, err)
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
		})
	}
}
