package registry_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/tabforge/tabforge/artifact"
	"github.com/tabforge/tabforge/registry"
	"github.com/tabforge/tabforge/store/sqlite"
)

func Example() {
	ctx := context.Background()
	dir, _ := os.MkdirTemp("", "registry-example")
	defer os.RemoveAll(dir)
	st, err := sqlite.Open(ctx, filepath.Join(dir, "tf.db"))
	if err != nil {
		panic(err)
	}
	defer st.Close()
	reg := registry.New(st) // any store.Records: SQLite, Redis, a failover pair

	register := func(dataset string) string {
		m, _, err := reg.Register(ctx, registry.Model{
			Identity:   registry.Identity{DatasetHash: dataset, ConfigHash: "c0ffee", Seed: 42, CodeVersion: "0.1.0"},
			RunID:      "run-" + dataset,
			Family:     "gbdt",
			Artifact:   artifact.Ref{URL: "mem://", Key: "models/" + dataset + ".tfm", SHA256: "00"},
			Deployable: true,
		})
		if err != nil {
			panic(err)
		}
		return m.Version
	}
	v1, v2 := register("data-v1"), register("data-v2")

	reg.Promote(ctx, v1, registry.Production, registry.PromoteOptions{})
	reg.Promote(ctx, v2, registry.Production, registry.PromoteOptions{Reason: "retrained on new data"})
	p, _ := reg.Production(ctx)
	fmt.Println("production:", p.Version == v2, p.RunID)

	e, _ := reg.Rollback(ctx, registry.PromoteOptions{Reason: "bad latency"})
	p, _ = reg.Production(ctx)
	fmt.Println("after rollback:", p.Version == v1, e.Replaced == v2)

	d, _ := reg.Show(ctx, v2)
	fmt.Println(d.Model.Stage, d.Lineage.RunID, d.Lineage.DatasetHash, len(d.History))

	_, err = reg.Promote(ctx, "0123456789abcdef", registry.Production, registry.PromoteOptions{})
	fmt.Println(err)
	// Output:
	// production: true run-data-v2
	// after rollback: true true
	// archived run-data-v2 data-v2 2
	// registry: unknown model version "0123456789abcdef": not found
}
