package failover_test

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/tabforge/tabforge/store"
	"github.com/tabforge/tabforge/store/failover"
	"github.com/tabforge/tabforge/store/redis"
	"github.com/tabforge/tabforge/store/redis/redistest"
	"github.com/tabforge/tabforge/store/sqlite"
)

// BenchmarkReplay replays a journal of records written on the fallback
// during an outage (each checked against the primary's state, "absent")
// to a real redis-server: one journal per iteration, copied from a file
// built once, onto a key prefix of its own.
func BenchmarkReplay(b *testing.B) {
	for _, n := range []int{5_000, 50_000} {
		b.Run(fmt.Sprint("records=", n), func(b *testing.B) {
			ctx := context.Background()
			dir := b.TempDir()
			master := filepath.Join(dir, "master.db")
			down, err := failover.Open(ctx, "redis://127.0.0.1:1/0", failover.Options{Fallback: master, Logger: quiet()})
			if err != nil {
				b.Fatal(err)
			}
			recs := make([]*store.Record, n)
			for i := range recs {
				k := fmt.Sprintf("%06d/e", i)
				recs[i] = &store.Record{Kind: "ev", Key: k, Value: []byte("fallback " + k)}
			}
			if err := down.PutRecords(ctx, recs); err != nil {
				b.Fatal(err)
			}
			down.Close()
			srv := redistest.Start(b)
			i := 0
			for b.Loop() {
				b.StopTimer()
				i++
				fb := filepath.Join(dir, fmt.Sprintf("fb%d.db", i))
				copyFile(b, master, fb)
				fallback, err := sqlite.Open(ctx, fb)
				if err != nil {
					b.Fatal(err)
				}
				primary, err := redis.Open(ctx, fmt.Sprintf("%s?prefix=b%d:", srv.URL(), i))
				if err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
				got, err := failover.Replay(ctx, fallback, primary)
				b.StopTimer()
				if err != nil || got.Records != n {
					b.Fatalf("replay = %+v, %v; want %d records", got, err, n)
				}
				primary.Close()
				fallback.Close()
				b.StartTimer()
			}
		})
	}
}

func copyFile(b *testing.B, from, to string) {
	src, err := os.Open(from)
	if err != nil {
		b.Fatal(err)
	}
	defer src.Close()
	dst, err := os.Create(to)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := io.Copy(dst, src); err != nil {
		b.Fatal(err)
	}
	if err := dst.Close(); err != nil {
		b.Fatal(err)
	}
}
