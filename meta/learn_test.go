package meta

import (
	"context"
	"encoding/csv"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/tabforge/tabforge/config"
	"github.com/tabforge/tabforge/frame"
	"github.com/tabforge/tabforge/model"
	"github.com/tabforge/tabforge/pipeline"
)

// corpusKB builds a knowledge base from the two corpus tables of
// testdata, as `tabforge meta build` does.
func corpusKB(t *testing.T) *KB {
	t.Helper()
	kb := &KB{Records: newMemRecords(), Options: Options{LandmarkRows: 300}}
	dir := filepath.Join("..", "testdata", "corpus")
	rep, err := Build(context.Background(), kb, []CorpusDataset{
		{File: filepath.Join(dir, "ggplot2_mpg.csv"), Target: "hwy", Task: "regression"},
		{File: filepath.Join(dir, "palmerpenguins_penguins.csv"), Target: "species", Task: "multiclass"},
	}, BuildOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Scored != 2 || len(rep.Failed) > 0 {
		t.Fatalf("Build = %+v; want 2 datasets scored", rep)
	}
	return kb
}

// nearMPG writes mpg's first 200 rows: a different dataset version,
// close to the known one.
func nearMPG(t *testing.T) string {
	t.Helper()
	rows := make([]int, 200)
	for i := range rows {
		rows[i] = i
	}
	return nearCopy(t, "ggplot2_mpg.csv", rows)
}

// nearPenguins writes every other row of the penguins (file order groups
// the species, so every other row keeps all three).
func nearPenguins(t *testing.T) string {
	t.Helper()
	rows := make([]int, 172)
	for i := range rows {
		rows[i] = 2 * i
	}
	return nearCopy(t, "palmerpenguins_penguins.csv", rows)
}

// nearCopy writes the rows of a corpus file to a new file: a different
// dataset version, close to the known one.
func nearCopy(t *testing.T, name string, rows []int) string {
	t.Helper()
	f, err := frame.ReadFile(filepath.Join("..", "testdata", "corpus", name), frame.ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "near-"+name)
	fh, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := frame.WriteCSV(fh, f.Take(rows)); err != nil {
		t.Fatal(err)
	}
	if err := fh.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

// unlikeAnything writes a synthetic regression table unlike the corpus:
// 60 noise columns, a heavy-tailed target unrelated to them.
func unlikeAnything(t *testing.T) string {
	t.Helper()
	rng := rand.New(rand.NewPCG(7, 7))
	path := filepath.Join(t.TempDir(), "noise.csv")
	fh, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w := csv.NewWriter(fh)
	head := []string{"y"}
	for j := range 60 {
		head = append(head, fmt.Sprintf("x%d", j))
	}
	_ = w.Write(head)
	for range 400 {
		row := []string{fmt.Sprint(rng.ExpFloat64() * rng.ExpFloat64() * rng.ExpFloat64() * 1000)}
		for range 60 {
			row = append(row, fmt.Sprint(rng.NormFloat64()))
		}
		_ = w.Write(row)
	}
	w.Flush()
	if err := fh.Close(); err != nil || w.Error() != nil {
		t.Fatal(err, w.Error())
	}
	return path
}

func trainMeta(t *testing.T, data, target string, on bool, adv pipeline.MetaAdvisor, tuned bool) *pipeline.Result {
	t.Helper()
	return trainMetaModels(t, data, target, []string{"gbdt", "forest", "ridge"}, on, adv, tuned)
}

func trainMetaModels(t *testing.T, data, target string, models []string, on bool, adv pipeline.MetaAdvisor, tuned bool) *pipeline.Result {
	t.Helper()
	cfg := config.Default()
	cfg.Data, cfg.Target, cfg.Out = data, target, t.TempDir()
	cfg.Models, cfg.CVFolds, cfg.ForceProductionQuality = models, 3, false
	cfg.MetaLearning, cfg.EnableHyperparameterTuning, cfg.MaxEvals = on, tuned, 6
	res, err := pipeline.Train(context.Background(), cfg, pipeline.Options{Meta: adv})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// checkTried checks a zero-shot run's configurations from the knowledge
// base: a default per family, two alternatives for gbdt on a
// classification task, each unlike the others, and every candidate
// labelled with the configuration its CV check kept.
func checkTried(t *testing.T, tried []pipeline.MetaTried, lb []pipeline.Entry, task model.Task, families ...string) {
	t.Helper()
	defaults, alternatives := map[string]int{}, map[string][]map[string]any{}
	for _, c := range tried {
		switch c.Use {
		case "default":
			defaults[c.Family]++
			alternatives[c.Family] = append(alternatives[c.Family], c.Params)
		case "alternative":
			for _, p := range alternatives[c.Family] {
				if reflect.DeepEqual(p, c.Params) {
					t.Errorf("%s alternative %v repeats a configuration tried before", c.Family, c.Params)
				}
			}
			alternatives[c.Family] = append(alternatives[c.Family], c.Params)
		default:
			t.Errorf("Tried %+v: use %q in a zero-shot run", c, c.Use)
		}
	}
	for _, fam := range families {
		want := 1
		if fam == "gbdt" && task.IsClassification() {
			want = 3
		}
		if defaults[fam] != 1 || len(alternatives[fam]) != want {
			t.Errorf("%s: %d defaults and %d configurations in all; want 1 and %d (Tried %+v)", fam, defaults[fam], len(alternatives[fam]), want, tried)
		}
	}
	for _, e := range lb {
		if strings.HasPrefix(e.Model, "ensemble") || e.ZeroShot == "" {
			continue
		}
		if e.ZeroShot != "knowledge base" && e.ZeroShot != "static defaults" &&
			(e.Model != "gbdt" || (e.ZeroShot != "knowledge base alternative 1" && e.ZeroShot != "knowledge base alternative 2")) {
			t.Errorf("%s: zero_shot %q", e.Model, e.ZeroShot)
		}
	}
}

func leaderParams(res *pipeline.Result) map[string]map[string]any {
	out := map[string]map[string]any{}
	for _, e := range res.Leaderboard {
		if !strings.HasPrefix(e.Model, "ensemble") {
			out[e.Model] = e.Params
		}
	}
	return out
}

// TestMetaLearningInTrain checks the three ways a run uses the knowledge
// base: zero-shot defaults near a known dataset, a cold start far from
// every known one, and nothing at all with meta_learning off.
func TestMetaLearningInTrain(t *testing.T) {
	kb := corpusKB(t)
	adv := Advisor{KB: kb, Options: Options{LandmarkRows: 300}}
	near, far := nearMPG(t), unlikeAnything(t)

	t.Run("zero-shot", func(t *testing.T) {
		static := trainMeta(t, near, "hwy", false, nil, false)
		res := trainMeta(t, near, "hwy", true, adv, false)
		m := res.Meta
		if m == nil || m.Mode != pipeline.MetaZeroShot || m.Far || len(m.Neighbours) == 0 || m.Neighbours[0].Name != "ggplot2_mpg.csv" {
			t.Fatalf("Meta = %+v; want zero-shot from ggplot2_mpg.csv", m)
		}
		checkTried(t, m.Tried, res.Leaderboard, model.Regression, "gbdt", "forest", "ridge")
		if reflect.DeepEqual(leaderParams(static), leaderParams(res)) {
			t.Errorf("zero-shot params equal the static defaults: %v", leaderParams(res))
		}
		reportSays(t, res, "Mode: zero-shot", "ggplot2_mpg.csv", "kept by", "leaderboard place")
	})
	t.Run("zero-shot classification", func(t *testing.T) {
		res := trainMetaModels(t, nearPenguins(t), "species", []string{"gbdt", "forest"}, true, adv, false)
		m := res.Meta
		if m == nil || m.Mode != pipeline.MetaZeroShot || len(m.Neighbours) == 0 || m.Neighbours[0].Name != "palmerpenguins_penguins.csv" {
			t.Fatalf("Meta = %+v; want zero-shot from palmerpenguins_penguins.csv", m)
		}
		checkTried(t, m.Tried, res.Leaderboard, model.Multiclass, "gbdt", "forest")
		reportSays(t, res, "Mode: zero-shot", "alternative")
	})
	t.Run("far from known", func(t *testing.T) {
		static := trainMeta(t, far, "y", false, nil, false)
		res := trainMeta(t, far, "y", true, adv, false)
		m := res.Meta
		if m == nil || m.Mode != pipeline.MetaColdStart || !m.Far || !strings.Contains(m.Fallback, "far from known") || len(m.Tried) != 0 {
			t.Fatalf("Meta = %+v; want a cold start, far from known", m)
		}
		if !reflect.DeepEqual(leaderParams(static), leaderParams(res)) {
			t.Errorf("cold start params %v; want the static defaults %v", leaderParams(res), leaderParams(static))
		}
		reportSays(t, res, "Mode: cold-start", "Cold start: far from known datasets")
	})
	t.Run("off", func(t *testing.T) {
		static := trainMeta(t, near, "hwy", false, nil, false)
		res := trainMeta(t, near, "hwy", false, adv, false)
		if res.Meta != nil {
			t.Errorf("Meta = %+v with meta_learning off; want nil", res.Meta)
		}
		if !reflect.DeepEqual(leaderParams(static), leaderParams(res)) {
			t.Errorf("meta_learning=false params %v; want %v", leaderParams(res), leaderParams(static))
		}
	})
	t.Run("warm start", func(t *testing.T) {
		res := trainMeta(t, near, "hwy", true, adv, true)
		if res.Meta == nil || res.Meta.Mode != pipeline.MetaWarmStart {
			t.Fatalf("Meta = %+v; want a warm start", res.Meta)
		}
		for _, e := range res.Leaderboard {
			if e.Model == "gbdt" && (e.Tuning == nil || !strings.Contains(e.Tuning.WarmStart, "meta:ggplot2_mpg.csv")) {
				t.Errorf("gbdt tuning %+v; want a warm start from ggplot2_mpg.csv", e.Tuning)
			}
		}
		// Each start is a trial of the study, ranked among its trials.
		if len(res.Meta.Tried) == 0 {
			t.Fatal("no configurations tried from the knowledge base")
		}
		next := map[string]int{} // per family, the next trial number
		for _, c := range res.Meta.Tried {
			if c.Use != "start" || c.Trial != next[c.Family] || c.Rank < 1 || c.Rank > c.Trials || c.Study == "" {
				t.Errorf("tried %+v; want trial %d of its study, ranked among its trials", c, next[c.Family])
			}
			next[c.Family]++
		}
		reportSays(t, res, "Mode: warm-start", fmt.Sprintf("trial 1, ranked %d of %d trials", res.Meta.Tried[0].Rank, res.Meta.Tried[0].Trials))
	})
}

// reportSays checks the run's HTML report's meta-learning section.
func reportSays(t *testing.T, res *pipeline.Result, want ...string) {
	t.Helper()
	b, err := os.ReadFile(res.Report)
	if err != nil {
		t.Fatalf("report: %v", err)
	}
	page := string(b)
	i := strings.Index(page, `<section id="meta">`)
	if i < 0 {
		t.Fatal("report has no meta-learning section")
	}
	sec := page[i:]
	if j := strings.Index(sec, "</section>"); j > 0 {
		sec = sec[:j]
	}
	for _, w := range want {
		if !strings.Contains(sec, w) {
			t.Errorf("meta-learning section lacks %q:\n%s", w, sec)
		}
	}
}
