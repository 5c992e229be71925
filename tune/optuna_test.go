package tune

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"testing"
)

// debianPython is the interpreter with python3-optuna 3.1 installed.
const debianPython = "/usr/bin/python3"

// TestTPEComparableToOptuna runs testdata/optuna_bench.py (Optuna 3.1's
// TPESampler, defaults, 10 seeds) and tune's TPE on Branin (50 trials) and
// Hartmann6 (100 trials) and checks that tune's mean best closes at least
// 60% as much of random search's gap to the optimum as Optuna's does, for
// univariate and multivariate TPE alike. It skips, saying why, when
// Optuna is not installed.
func TestTPEComparableToOptuna(t *testing.T) {
	if testing.Short() {
		t.Skip("slow: Optuna needs about 40 s")
	}
	if _, err := os.Stat(debianPython); err != nil {
		t.Skipf("skipping: %s not found (Debian python3-optuna is the peer)", debianPython)
	}
	if err := exec.Command(debianPython, "-c", "import optuna").Run(); err != nil {
		t.Skipf("skipping: %s cannot import optuna: %v", debianPython, err)
	}
	out, err := exec.Command(debianPython, "testdata/optuna_bench.py", "10", "50", "100").Output()
	if err != nil {
		t.Fatalf("optuna_bench.py: %v", err)
	}
	var peer map[string]json.RawMessage
	if err := json.Unmarshal(out, &peer); err != nil {
		t.Fatalf("optuna_bench.py output %q: %v", out, err)
	}
	cases := []struct {
		name   string
		obj    func(context.Context, *Trial) (float64, error)
		trials int
		optim  float64
	}{
		{"branin", branin, 50, 0.397887},
		{"hartmann6", hartmann6, 100, -3.32237},
	}
	for _, c := range cases {
		var o struct {
			Trials int     `json:"trials"`
			TPE    float64 `json:"tpe"`
			Multi  float64 `json:"tpe_multivariate"`
		}
		if err := json.Unmarshal(peer[c.name], &o); err != nil || o.Trials != c.trials {
			t.Fatalf("%s: optuna result %s: %v", c.name, peer[c.name], err)
		}
		rnd := meanBest(t, RandomSampler{}, 10, c.trials, c.obj)
		uni := meanBest(t, TPESampler{}, 10, c.trials, c.obj)
		multi := meanBest(t, TPESampler{Multivariate: true}, 10, c.trials, c.obj)
		t.Logf("%s, %d trials, mean best of 10 seeds: tune TPE %.4f vs Optuna 3.1 %.4f; multivariate %.4f vs %.4f; random %.4f; optimum %.4f",
			c.name, c.trials, uni, o.TPE, multi, o.Multi, rnd, c.optim)
		for _, p := range []struct {
			variant    string
			ours, peer float64
		}{{"univariate", uni, o.TPE}, {"multivariate", multi, o.Multi}} {
			if gain, peerGain := rnd-p.ours, rnd-p.peer; gain < 0.6*peerGain {
				t.Errorf("%s %s: tune closes %.4f of random's gap, Optuna %.4f; want >= 60%% of Optuna's",
					c.name, p.variant, gain, peerGain)
			}
		}
	}
}
