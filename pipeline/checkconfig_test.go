package pipeline

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tabforge/tabforge/config"
	"github.com/tabforge/tabforge/registry"
	"github.com/tabforge/tabforge/store"
)

// refusingRegistrar fails the test if Train ever gets as far as
// registering: a bad name must be refused before the run.
type refusingRegistrar struct{ t *testing.T }

func (r refusingRegistrar) Register(context.Context, *config.Config, *Result, *store.Fence) (*registry.Model, bool, error) {
	r.t.Error("Register called: the config should have been refused before training")
	return nil, false, errors.New("refused")
}

// TestTrainRefusesBadConfig builds configs in code, as a library user
// does (config.Load, which validates, is not involved), and checks that
// Train refuses each before reading the data, which does not exist here,
// with a *config.KeyError naming the bad key.
func TestTrainRefusesBadConfig(t *testing.T) {
	tests := []struct {
		name     string
		edit     func(*config.Config)
		register bool
		key      string
	}{
		{"no target", func(c *config.Config) { c.Target = "" }, false, "target"},
		{"no data", func(c *config.Config) { c.Data = "" }, false, "data"},
		{"one CV fold", func(c *config.Config) { c.CVFolds = 1 }, false, "cv_folds"},
		{"test fraction above 1", func(c *config.Config) { c.TestFraction = 2 }, false, "test_fraction"},
		{"target dropped", func(c *config.Config) { c.Drop = []string{"churn"} }, false, "drop"},
		{"negative workers", func(c *config.Config) { c.Workers = -3 }, false, "workers"},
		{"unknown family", func(c *config.Config) { c.Models = []string{"gbtd"} }, false, "models"},
		{"bad name with a registrar", func(c *config.Config) { c.Name = "my model/v1" }, true, "name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := config.Default()
			cfg.Data, cfg.Target = filepath.Join(t.TempDir(), "absent.csv"), "churn"
			cfg.Models, cfg.Out = []string{"logistic"}, t.TempDir()
			tt.edit(cfg)
			o := Options{}
			if tt.register {
				o.Registrar = refusingRegistrar{t}
			}
			_, err := Train(context.Background(), cfg, o)
			var ke *config.KeyError
			if !errors.As(err, &ke) || ke.Key != tt.key {
				t.Fatalf("Train = %v; want a *config.KeyError for %s", err, tt.key)
			}
			if strings.Contains(err.Error(), "absent.csv") {
				t.Errorf("Train read the data before checking the config: %v", err)
			}
		})
	}
}

// TestTrainNilConfig: a nil config is an error, not a panic.
func TestTrainNilConfig(t *testing.T) {
	if _, err := Train(context.Background(), nil, Options{}); err == nil {
		t.Fatal("Train(nil config) = nil error")
	}
}
