package servebench

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/tabforge/tabforge/artifact"
	"github.com/tabforge/tabforge/config"
	"github.com/tabforge/tabforge/pipeline"
	"github.com/tabforge/tabforge/registry"
	"github.com/tabforge/tabforge/store/sqlite"
)

// benchStore is the throwaway registry: one name, two versions of the
// same model file, the first in production.
type benchStore struct {
	st       *sqlite.Store
	arts     *artifact.Store
	reg      *registry.Registry
	name     string
	family   string
	versions [2]string
}

func (s *benchStore) close() {
	s.arts.Close()
	s.st.Close()
}

// newStore opens a SQLite registry in dir, trains (or takes) the model
// and registers it twice. The two versions differ only in their code
// version, which is part of a version's identity, so their predictions
// are equal and a swap changes nothing but X-Model-Version.
func newStore(ctx context.Context, o Options, dir string) (*benchStore, error) {
	cfg, res, err := model(ctx, o, dir)
	if err != nil {
		return nil, err
	}
	st, err := sqlite.Open(ctx, filepath.Join(dir, "tabforge.db"))
	if err != nil {
		return nil, err
	}
	arts, err := artifact.Open(ctx, filepath.Join(dir, "artifacts"))
	if err != nil {
		st.Close()
		return nil, err
	}
	s := &benchStore{st: st, arts: arts, reg: registry.New(st), name: o.Name}
	for i, code := range []string{"tabforge bench serve A", "tabforge bench serve B"} {
		m, _, err := pipeline.Register(ctx, s.reg, arts, cfg, res, code)
		if err != nil {
			s.close()
			return nil, err
		}
		s.versions[i], s.family = m.Version, m.Family
	}
	if _, err := s.reg.Promote(ctx, s.versions[0], registry.Production, registry.PromoteOptions{Force: true, Reason: "bench serve"}); err != nil {
		s.close()
		return nil, err
	}
	return s, nil
}

// model trains the model of o on o.Data, or describes o.Model as a run
// result for pipeline.Register.
func model(ctx context.Context, o Options, dir string) (*config.Config, *pipeline.Result, error) {
	cfg := config.Default()
	cfg.Data, cfg.Target, cfg.TimeColumn, cfg.Name = o.Data, o.Target, o.TimeColumn, o.Name
	cfg.Out = filepath.Join(dir, "train")
	if o.Model == "" {
		if len(o.Models) > 0 {
			cfg.Models = o.Models
		}
		fmt.Fprintf(o.Log, "bench serve: training on %s (target %s)\n", o.Data, o.Target)
		res, err := pipeline.Train(ctx, cfg, pipeline.Options{})
		var gate *pipeline.GateError
		if err != nil && !errors.As(err, &gate) {
			return nil, nil, fmt.Errorf("bench serve: train: %w", err)
		}
		return cfg, res, nil
	}
	p, err := pipeline.LoadPredictor(o.Model, pipeline.Families())
	if err != nil {
		return nil, nil, fmt.Errorf("bench serve: --model: %w", err)
	}
	data, err := os.ReadFile(o.Model)
	if err != nil {
		return nil, nil, fmt.Errorf("bench serve: --model: %w", err)
	}
	sum := sha256.Sum256(data)
	res := &pipeline.Result{RunID: "bench-serve", DatasetHash: hex.EncodeToString(sum[:]), Task: p.Target.Task,
		Target: p.Target.Name, Best: "model file", ModelPath: o.Model, Deployable: true}
	return cfg, res, nil
}
