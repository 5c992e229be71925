package pipeline

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/tabforge/tabforge/config"
	"github.com/tabforge/tabforge/frame"
	"github.com/tabforge/tabforge/model"
)

// incomeZero is credit data whose unknown incomes are written as 0
// (testdata/README.md), and incomeBlank the same rows as credit_data.csv
// has them, unknown incomes empty.
var incomeZero = filepath.Join("..", "testdata", "credit_income0.csv")

func incomeBlank(t *testing.T) *frame.Frame {
	t.Helper()
	src, err := os.ReadFile(filepath.Join("..", "testdata", "credit_data.csv"))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.SplitAfter(string(src), "\n")
	f, err := frame.ReadCSV(strings.NewReader(strings.Join(lines[:601], "")), frame.ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// zeros counts column name's values of 0 and its missing values in f.
func zeros(f *frame.Frame, name string) (zero, missing int) {
	c, _ := f.Lookup(name)
	for _, v := range c.Num {
		switch {
		case math.IsNaN(v):
			missing++
		case v == 0:
			zero++
		}
	}
	return zero, missing
}

func incomeConfig(t *testing.T, missing config.MissingValues) *config.Config {
	cfg := config.Default()
	cfg.Data, cfg.Target, cfg.Models, cfg.CVFolds, cfg.Out = incomeZero, "Status", []string{"logistic"}, 0, t.TempDir()
	cfg.ForceProductionQuality, cfg.MissingValues = false, missing
	return cfg
}

// TestColumnMissingTrain: with missing_values {Income: ["0"]} train reads
// the incomes written as 0 as missing, exactly as the same rows with
// them empty (the dataset version is that file's), while the zeros of
// Assets and Debt stay values; without it the zeros are incomes, another
// dataset version. The model keeps the column's texts: it reads the file
// so itself, for any caller, and predicts on it what it predicts on the
// rows with empty incomes; read without them, it predicts otherwise.
func TestColumnMissingTrain(t *testing.T) {
	blank := incomeBlank(t)
	byColumn := incomeConfig(t, config.MissingValues{Columns: map[string][]string{"Income": {"0"}}})
	x, err := frame.ReadFile(incomeZero, ReadOptions(byColumn))
	if err != nil {
		t.Fatal(err)
	}
	if z, m := zeros(x, "Income"); z != 0 || m != 34 {
		t.Errorf("Income: %d zeros, %d missing; want 0 and the 34 unknown incomes", z, m)
	}
	for _, col := range []string{"Assets", "Debt", "Seniority"} {
		if z, _ := zeros(x, col); z == 0 {
			t.Errorf("%s: no zeros left; another column's texts must not apply", col)
		}
	}
	res, err := Train(context.Background(), byColumn, Options{})
	if err != nil {
		t.Fatal(err)
	}
	plain, err := Train(context.Background(), incomeConfig(t, config.MissingValues{}), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if res.DatasetHash != blank.Hash() || plain.DatasetHash == res.DatasetHash {
		t.Errorf("dataset versions %.12s with Income's 0 missing, %.12s without; want the first %.12s (empty incomes), the second another",
			res.DatasetHash, plain.DatasetHash, blank.Hash())
	}

	p, err := LoadPredictor(res.ModelPath, Families())
	if err != nil {
		t.Fatal(err)
	}
	if want := map[string][]string{"Income": {"0"}}; !equalTexts(p.ColumnMissing, want) {
		t.Fatalf("saved model's ColumnMissing = %q; want %q", p.ColumnMissing, want)
	}
	// No "*": the default texts, spelled out so that no caller's replace them.
	if !slices.Equal(p.Missing, frame.DefaultMissing()) {
		t.Errorf("saved model's Missing = %q; want the default %q", p.Missing, frame.DefaultMissing())
	}
	read, rep, err := p.ReadInput(incomeZero, frame.ReadOptions{})
	if err != nil || rep.Err(false) != nil {
		t.Fatalf("read: %v %v", err, rep.Err(false))
	}
	if _, m := zeros(read, "Income"); m != 34 {
		t.Errorf("the model reads %d missing incomes; want 34", m)
	}
	got, err := p.Predict(read)
	if err != nil {
		t.Fatal(err)
	}
	want, err := p.Predict(blank)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got.Values, want.Values) {
		t.Error("predictions on incomes written 0 differ from those on the same rows with them empty")
	}
	asZero, err := frame.ReadFile(incomeZero, frame.ReadOptions{Schema: p.ReadSchema()})
	if err != nil {
		t.Fatal(err)
	}
	wrong, err := p.Predict(asZero)
	if err != nil {
		t.Fatal(err)
	}
	if slices.Equal(wrong.Values, want.Values) {
		t.Error("predictions with incomes of 0 equal those with them missing: the test cannot tell the texts were used")
	}
}

// layoutVersion returns the predictor layout version of a saved model.
func layoutVersion(t *testing.T, data []byte) int {
	t.Helper()
	_, payload, err := model.DecodeEnvelope(data)
	if err != nil || len(payload) < 8 {
		t.Fatalf("envelope: %v", err)
	}
	var head struct {
		Version int `json:"version"`
	}
	n := binary.LittleEndian.Uint64(payload)
	if err := json.Unmarshal(payload[8:8+n], &head); err != nil {
		t.Fatal(err)
	}
	return head.Version
}

func equalTexts(a, b map[string][]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if !slices.Equal(v, b[k]) {
			return false
		}
	}
	return true
}

// TestColumnMissingUnknownColumn: a column of missing_values that the
// data lacks fails the run before any training, naming the key, the
// column and the closest column the data has.
func TestColumnMissingUnknownColumn(t *testing.T) {
	cfg := incomeConfig(t, config.MissingValues{Columns: map[string][]string{"income": {"0"}, "Debt": {"0"}}})
	_, err := Train(context.Background(), cfg, Options{})
	var mc *MissingColumnsError
	if !errors.As(err, &mc) || !slices.Equal(mc.Missing, []MissingColumn{{"missing_values", "income"}}) {
		t.Fatalf("Train = %v; want a *MissingColumnsError for missing_values \"income\" only", err)
	}
	if !strings.Contains(err.Error(), `missing_values "income" (did you mean "Income"?)`) {
		t.Errorf("Train error %q; want it to suggest Income", err)
	}
}

// TestColumnMissingModelFile: a model with column texts is written as
// predictor layout 3, which older readers refuse rather than read new
// data without the texts; one without them stays layout 2, which they
// load; both load here. TargetMissing gives the target's texts, for the
// actuals of monitor realised.
func TestColumnMissingModelFile(t *testing.T) {
	res, err := Train(context.Background(), incomeConfig(t, config.MissingValues{All: []string{"?"}, Columns: map[string][]string{"Status": {"unknown"}}}), Options{})
	if err != nil {
		t.Fatal(err)
	}
	p, err := LoadPredictor(res.ModelPath, Families())
	if err != nil {
		t.Fatal(err)
	}
	if got, want := p.TargetMissing(), []string{"", "?", "unknown"}; !slices.Equal(got, want) {
		t.Errorf("TargetMissing() = %q; want %q", got, want)
	}
	with, err := p.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	p.ColumnMissing = nil
	without, err := p.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if v := layoutVersion(t, with); v != 3 {
		t.Errorf("layout with column texts %d; want 3", v)
	}
	if v := layoutVersion(t, without); v != 2 {
		t.Errorf("layout without column texts %d; want 2", v)
	}
	if got := p.TargetMissing(); !slices.Equal(got, []string{"", "?"}) {
		t.Errorf("TargetMissing() without column texts = %q; want [\"\" ?]", got)
	}
}

// TestPredictorReadOptions: a model that records its missing texts reads
// with them, its column texts (none included) replacing the caller's, so
// a config's column texts do not reach a model trained without them; a
// model saved before the texts were kept reads with the caller's.
func TestPredictorReadOptions(t *testing.T) {
	caller := frame.ReadOptions{Missing: []string{""}, ColumnMissing: map[string][]string{"Income": {"0"}}, Comma: ';'}
	list := []string{"", "NA"}
	own := map[string][]string{"Debt": {"-1"}}
	for _, tt := range []struct {
		name string
		p    Predictor
		want frame.ReadOptions
	}{
		{"saved before", Predictor{}, caller},
		{"list", Predictor{Missing: list}, frame.ReadOptions{Missing: list, Comma: ';'}},
		{"column texts", Predictor{Missing: list, ColumnMissing: own}, frame.ReadOptions{Missing: list, ColumnMissing: own, Comma: ';'}},
	} {
		if got := tt.p.ReadOptions(caller); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s: ReadOptions = %+v; want %+v", tt.name, got, tt.want)
		}
	}
}
