package sqlite_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/tabforge/tabforge/store"
	"github.com/tabforge/tabforge/store/sqlite"
	"github.com/tabforge/tabforge/tune"
)

// Open creates the database file if needed; records are keyed by kind and
// key, and writing a key again replaces its value.
func ExampleOpen() {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "tabforge-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	st, err := sqlite.Open(ctx, filepath.Join(dir, "tabforge.db"))
	if err != nil {
		log.Fatal(err)
	}
	defer st.Close()

	for _, key := range []string{"churn", "sales", "churn"} {
		if err := st.PutRecord(ctx, "note", key, []byte("about "+key)); err != nil {
			log.Fatal(err)
		}
	}
	r, err := st.GetRecord(ctx, "note", "sales")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%s/%s = %s\n", r.Kind, r.Key, r.Value)
	all, _ := st.ListRecords(ctx, "note", "")
	fmt.Println(len(all), "notes")

	_, err = st.GetRecord(ctx, "note", "missing")
	fmt.Println("missing is not found:", errors.Is(err, store.ErrNotFound))
	// Output:
	// note/sales = about sales
	// 2 notes
	// missing is not found: true
}

// A Store is a tune.Storage, so a study recorded in the file resumes after
// the process that ran it is gone.
func ExampleStore_tuneStorage() {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "tabforge-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "tabforge.db")
	objective := func(ctx context.Context, t *tune.Trial) (float64, error) {
		return t.SuggestFloat("x", 0, 1, false), nil
	}
	for session := 1; session <= 2; session++ {
		st, err := sqlite.Open(ctx, path)
		if err != nil {
			log.Fatal(err)
		}
		study, err := tune.NewStudy(ctx, "demo", tune.Config{Storage: st, Seed: 1})
		if err != nil {
			log.Fatal(err)
		}
		res, err := study.Optimize(ctx, objective, tune.Budget{MaxTrials: 3 * session})
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("session %d ran %d trials, study has %d\n", session, res.Complete, res.Total)
		st.Close()
	}
	// Output:
	// session 1 ran 3 trials, study has 3
	// session 2 ran 3 trials, study has 6
}
