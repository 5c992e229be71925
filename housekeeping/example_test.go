package housekeeping_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"time"

	"github.com/tabforge/tabforge/housekeeping"
	"github.com/tabforge/tabforge/registry"
	"github.com/tabforge/tabforge/store"
	"github.com/tabforge/tabforge/store/sqlite"
)

// A dry run of Collect reports which runs a policy would remove, and why
// the others stay, without touching the store.
func ExampleCollect() {
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
	reg, err := registry.Open(ctx, st)
	if err != nil {
		log.Fatal(err)
	}

	now := time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC)
	for i, status := range []store.Status{store.Succeeded, store.Failed, store.Succeeded, store.Running} {
		at := now.AddDate(0, 0, -10*(4-i)) // 40, 30, 20 and 10 days ago
		r := &store.Run{ID: fmt.Sprintf("run%d", i+1), Created: at, Status: status}
		if err := st.PutRun(ctx, r); err != nil {
			log.Fatal(err)
		}
	}
	env := housekeeping.Env{Store: st, Registry: reg}
	p := housekeeping.Policy{KeepLast: 1, OlderThan: 25 * 24 * time.Hour, DryRun: true, Now: now}
	rep, err := housekeeping.Collect(ctx, env, p)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("would remove", rep.Runs)
	for _, id := range []string{"run3", "run4"} {
		fmt.Printf("keeps %s: %s\n", id, rep.Kept[id])
	}
	runs, _ := st.ListRuns(ctx, 0)
	fmt.Println(len(runs), "runs still stored")
	// Output:
	// would remove [run2 run1]
	// keeps run3: created after 2024-05-07 00:00 UTC (older-than 600h0m0s)
	// keeps run4: among the 1 newest
	// 4 runs still stored
}
