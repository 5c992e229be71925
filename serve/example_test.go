package serve_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"

	"github.com/tabforge/tabforge/artifact"
	"github.com/tabforge/tabforge/config"
	"github.com/tabforge/tabforge/pipeline"
	"github.com/tabforge/tabforge/registry"
	"github.com/tabforge/tabforge/serve"
	"github.com/tabforge/tabforge/store/sqlite"
)

// trainHouses trains a ridge regression on a small generated CSV in dir,
// registers it as "houses" and promotes it to production.
func trainHouses(ctx context.Context, dir string, reg *registry.Registry, arts *artifact.Store) error {
	var csv strings.Builder
	csv.WriteString("area,rooms,price\n")
	for i := range 60 {
		area, rooms := 50+i*3, 1+i%5
		fmt.Fprintf(&csv, "%d,%d,%d\n", area, rooms, 1000*area+5000*rooms+(i*37)%2000)
	}
	data := filepath.Join(dir, "houses.csv")
	if err := os.WriteFile(data, []byte(csv.String()), 0o644); err != nil {
		return err
	}
	cfg := config.Default()
	cfg.Data, cfg.Target, cfg.Name, cfg.Out = data, "price", "houses", filepath.Join(dir, "runs")
	cfg.Models, cfg.CVFolds = []string{"ridge"}, 0
	res, err := pipeline.Train(ctx, cfg, pipeline.Options{})
	if err != nil {
		return err
	}
	m, _, err := pipeline.Register(ctx, reg, arts, cfg, res, "example")
	if err != nil {
		return err
	}
	_, err = reg.Promote(ctx, m.Version, registry.Production, registry.PromoteOptions{})
	return err
}

// A Server serves the production version of every registered name over
// MLflow's scoring protocol; here its handler runs on a loopback test server.
func Example() {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "tabforge-serve")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	st, err := sqlite.Open(ctx, filepath.Join(dir, "tabforge.db"))
	if err != nil {
		log.Fatal(err)
	}
	defer st.Close()
	arts, err := artifact.Open(ctx, filepath.Join(dir, "artifacts"))
	if err != nil {
		log.Fatal(err)
	}
	defer arts.Close()
	reg := registry.New(st)
	if err := trainHouses(ctx, dir, reg, arts); err != nil {
		log.Fatal(err)
	}

	srv, err := serve.New(ctx, reg, serve.Options{})
	if err != nil {
		log.Fatal(err)
	}
	ts := httptest.NewServer(srv.Handler())
	defer ts.Close()
	body := `{"dataframe_records": [{"area": 120, "rooms": 3}, {"area": 200, "rooms": 4}]}`
	resp, err := http.Post(ts.URL+"/v1/models/houses/invocations", "application/json", strings.NewReader(body))
	if err != nil {
		log.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct{ Predictions []float64 }
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		log.Fatal(err)
	}
	fmt.Println(resp.Status, len(out.Predictions), "predictions")
	fmt.Println("version header set:", resp.Header.Get("X-Model-Version") != "")
	fmt.Println("larger house dearer:", out.Predictions[1] > out.Predictions[0])
	// Output:
	// 200 OK 2 predictions
	// version header set: true
	// larger house dearer: true
}
