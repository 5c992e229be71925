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
	// Any store.Swapper: SQLite, Redis, a failover pair. Open migrates a
	// store written before model names existed.
	reg, err := registry.Open(ctx, st)
	if err != nil {
		panic(err)
	}

	register := func(name, dataset string) string {
		m, _, err := reg.Register(ctx, registry.Model{
			Name:       name,
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
	v1, v2 := register("houses", "sales-2024"), register("houses", "sales-2025")
	churn := register("churn", "customers")

	reg.Promote(ctx, v1, registry.Production, registry.PromoteOptions{})
	reg.Promote(ctx, v2, registry.Production, registry.PromoteOptions{Reason: "retrained on new data"})
	reg.Promote(ctx, churn, registry.Production, registry.PromoteOptions{}) // another name: houses keeps v2
	p, _ := reg.Resolve(ctx, "houses@production")
	fmt.Println("houses@production:", p.Version == v2, p.RunID)

	e, _ := reg.Rollback(ctx, "houses", registry.PromoteOptions{Reason: "bad latency"})
	p, _ = reg.Production(ctx, "houses")
	c, _ := reg.Production(ctx, "churn")
	fmt.Println("after rollback:", p.Version == v1, e.Replaced == v2, c.Version == churn)

	reg.SetAlias(ctx, "houses", "challenger", v2, registry.PromoteOptions{})
	m, _ := reg.Resolve(ctx, "houses@challenger")
	fmt.Println(m.Version == v2, m.Stage, m.Aliases)

	_, err = reg.Resolve(ctx, "houses@champion")
	fmt.Println(err)
	_, err = reg.Resolve(ctx, "prices@production")
	fmt.Println(err)
	// Output:
	// houses@production: true run-sales-2025
	// after rollback: true true true
	// true archived [challenger]
	// registry: houses@champion: unknown alias (houses has aliases challenger; stages are @production and @staging; the newest version is @latest)
	// registry: "prices": unknown model name (registered names: churn, houses)
}
