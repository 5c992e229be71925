package config

import (
	"errors"
	"math"
	"strings"
	"testing"
)

func TestValidate(t *testing.T) {
	tests := []struct {
		name   string
		modify func(c *Config)
		want   string // "" means valid; else the whole error text
	}{
		{"default", func(c *Config) {}, ""},
		{"task", func(c *Config) { c.Task = "foo" }, `task: "foo" is not one of auto, regression, binary, multiclass`},
		{"cv", func(c *Config) { c.CV = "loo" }, `cv: "loo" is not one of auto, kfold, stratified, timeseries, group`},
		{"log format", func(c *Config) { c.LogFormat = "xml" }, `log_format: "xml" is not one of text, json`},
		{"log level", func(c *Config) { c.LogLevel = "trace" }, `log_level: "trace" is not one of debug, info, warn, error`},
		{"pruner", func(c *Config) { c.Pruner = "asha" }, `pruner: "asha" is not one of none, median, hyperband`},
		{"schema", func(c *Config) { c.Schema = map[string]ColumnKind{"d": "date"} },
			`schema: column "d": "date" is not one of numeric, categorical, datetime`},
		{"min r2 high", func(c *Config) { c.MinR2Threshold = 1.5 }, `min_r2_threshold: 1.5 out of range [-inf, 1]`},
		{"min r2 nan", func(c *Config) { c.MinR2Threshold = math.NaN() }, `min_r2_threshold: nan is not a finite number`},
		{"min r2 -inf", func(c *Config) { c.MinR2Threshold = math.Inf(-1) }, `min_r2_threshold: -inf is not a finite number`},
		{"min r2 low is fine", func(c *Config) { c.MinR2Threshold = -3 }, ""},
		{"business accuracy", func(c *Config) { c.MinBusinessAccuracy = 101 }, `min_business_accuracy: 101 out of range [0, 100]`},
		{"segment accuracy", func(c *Config) { c.MinSegmentBusinessAccuracy = -1 }, `min_segment_business_accuracy: -1 out of range [0, 100]`},
		{"test fraction 1", func(c *Config) { c.TestFraction = 1 }, `test_fraction: must be in (0, 1), got 1`},
		{"test fraction 0", func(c *Config) { c.TestFraction = 0 }, `test_fraction: must be in (0, 1), got 0`},
		{"test fraction nan", func(c *Config) { c.TestFraction = math.NaN() }, `test_fraction: must be in (0, 1), got nan`},
		{"cv folds", func(c *Config) { c.CVFolds = 1 }, `cv_folds: 1 must be 0 (no cross-validation) or at least 2`},
		{"max evals", func(c *Config) { c.MaxEvals = 0 }, `max_evals: 0 out of range [1, inf)`},
		{"workers", func(c *Config) { c.Workers = -1 }, `workers: -1 out of range [0, inf)`},
		{"bias variance", func(c *Config) { c.BiasVarianceRounds = 1 }, `bias_variance_rounds: 1 must be 0 (off) or at least 2`},
		{"lags", func(c *Config) { c.TemporalLags = []int{1, 0} }, `temporal_lags: element 1: 0 out of range [1, inf)`},
		{"windows", func(c *Config) { c.RollingWindows = []int{1} }, `rolling_windows: element 0: 1 out of range [2, inf)`},
		{"time budget", func(c *Config) { c.TimeBudget = -1 }, `time_budget: -1ns is negative`},
		{"drop empty", func(c *Config) { c.Drop = []string{"a", " "} }, `drop: element 1 is empty`},
		{"models twice", func(c *Config) { c.Models = []string{"gbdt", "gbdt"} }, `models: "gbdt" appears twice`},
		{"drop target", func(c *Config) { c.Target, c.Drop = "y", []string{"y"} }, `drop: contains the target "y"`},
		{"drop segment column", func(c *Config) { c.SegmentColumn, c.Drop = "city", []string{"city"} }, `segment_column: "city" is also in drop; a dropped column cannot split the data`},
		{"time column target", func(c *Config) { c.Target, c.TimeColumn = "y", "y" }, `time_column: "y" is the target`},
		{"time column part target", func(c *Config) { c.Target, c.TimeColumn = "y", "year, y" }, `time_column: "y" is the target`},
		{"time column part empty", func(c *Config) { c.TimeColumn = "year," }, `time_column: "year,": name 2 is empty`},
		{"time column part twice", func(c *Config) { c.TimeColumn = "year, year" }, `time_column: "year" appears twice`},
		{"time column parts ok", func(c *Config) { c.Target, c.TimeColumn = "y", "Year_Sold, Mo_Sold" }, ""},
		{"as_of date", func(c *Config) { c.AsOf, c.TimeColumn = "last year", "date" },
			`as_of: "last year" is not a date (YYYY-MM-DD or RFC 3339)`},
		{"as_of ok", func(c *Config) { c.AsOf, c.TimeColumn = "2014-06-01", "date" }, ""},
		{"as_of rfc3339", func(c *Config) { c.AsOf, c.TimeColumn = "2014-06-01T00:00:00Z", "date" }, ""},
		{"as_of time column", func(c *Config) { c.AsOf = "2014-06-01" }, `as_of: needs time_column`},
		{"as_of and test rows", func(c *Config) { c.AsOf, c.TimeColumn, c.TestRows = "2014-06-01", "date", "rows.txt" },
			`as_of: and test_rows both choose the test set; set one`},
		{"timeseries", func(c *Config) { c.CV = CVTimeSeries }, `cv: "timeseries" needs time_column`},
		{"trend target", func(c *Config) { c.TargetTransform = TargetTrend }, `target_transform: "trend" needs time_column (the trend is fitted in time)`},
		{"stratified regression", func(c *Config) { c.CV, c.Task = CVStratified, TaskRegression },
			`cv: "stratified" needs a classification task (task is regression)`},
		{"positive class", func(c *Config) { c.PositiveClass, c.Task = "yes", TaskMulticlass },
			`positive_class: only applies to binary tasks (task is multiclass)`},
		{"store scheme", func(c *Config) { c.Store = "postgres://db" }, `store: scheme "postgres" is not one of sqlite, redis, rediss`},
		{"store url", func(c *Config) { c.Store = "tabforge.db" },
			`store: "tabforge.db" is not a URL: want sqlite://PATH or redis://HOST:PORT/DB`},
		{"store redis", func(c *Config) { c.Store = "redis://localhost:6379/0" }, ""},
		{"model params inf", func(c *Config) { c.ModelParams = map[string]map[string]any{"gbdt": {"gamma": math.Inf(1)}} },
			`model_params: gbdt: json: unsupported value: +Inf`},
		{"out", func(c *Config) { c.Out = "" }, `out: must not be empty`},
		{"trusted proxies", func(c *Config) { c.UITrustedProxies = []string{"10.0.0.0/8", "::1", "proxy.internal"} },
			`ui_trusted_proxies: element 2: "proxy.internal" is neither an IP address nor a CIDR range`},
		{"trusted proxies ok", func(c *Config) { c.UITrustedProxies = []string{"10.0.0.0/8", "192.0.2.7", "fd00::/8"} }, ""},
		{"two errors", func(c *Config) { c.Task, c.CVFolds = "foo", -1 },
			`task: "foo" is not one of auto, regression, binary, multiclass; cv_folds: -1 must be 0 (no cross-validation) or at least 2`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := Default()
			tt.modify(c)
			err := c.Validate()
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("Validate() = %v; want nil", err)
			case tt.want != "" && err == nil:
				t.Errorf("Validate() = nil; want %q", tt.want)
			case tt.want != "" && err.Error() != tt.want:
				t.Errorf("Validate() = %q;\n                  want %q", err, tt.want)
			}
			if err != nil {
				var ke *KeyError
				if !errors.As(err, &ke) {
					t.Errorf("error %v is not a *KeyError", err)
				}
			}
		})
	}
}

func TestValidateTrain(t *testing.T) {
	c := Default()
	c.Task = "foo"
	err := c.ValidateTrain()
	want := `task: "foo" is not one of auto, regression, binary, multiclass; data: required: the path of the training data; target: required: the column to predict`
	if err == nil || err.Error() != want {
		t.Errorf("ValidateTrain() = %v;\nwant %s", err, want)
	}
	c = Default()
	c.Data, c.Target = "testdata/ames.csv", "Sale_Price"
	if err := c.ValidateTrain(); err != nil {
		t.Errorf("ValidateTrain() = %v; want nil", err)
	}
}

func TestCheckModels(t *testing.T) {
	known := []string{"linear", "tree", "forest", "gbdt"}
	tests := []struct {
		models []string
		want   string
	}{
		{nil, ""},
		{[]string{"gbdt", "linear"}, ""},
		{[]string{"gbtd"}, `models: "gbtd" is not one of linear, tree, forest, gbdt; did you mean gbdt?`},
		{[]string{"xgboost"}, `models: "xgboost" is not one of linear, tree, forest, gbdt`},
	}
	for _, tt := range tests {
		c := Default()
		c.Models = tt.models
		err := c.CheckModels(known)
		got := ""
		if err != nil {
			got = err.Error()
		}
		if got != tt.want {
			t.Errorf("CheckModels(%v) = %q; want %q", tt.models, got, tt.want)
		}
	}
}

func TestSuggest(t *testing.T) {
	keys := Keys()
	tests := []struct{ in, want string }{
		{"max_eval", "max_evals"},
		{"maxevals", "max_evals"},
		{"min_r2", "min_r2_threshold"},
		{"enable_temporal", "enable_temporal_features"},
		{"seeed", "seed"},
		{"TARGET", "target"},
		{"qqqqqqqq", ""},
		{"x", ""},
	}
	for _, tt := range tests {
		if got := suggest(tt.in, keys); got != tt.want {
			t.Errorf("suggest(%q) = %q; want %q", tt.in, got, tt.want)
		}
	}
}

func TestEditDistance(t *testing.T) {
	tests := []struct {
		a, b string
		want int
	}{
		{"", "", 0}, {"abc", "", 3}, {"", "ab", 2}, {"kitten", "sitting", 3}, {"seed", "seed", 0}, {"flaw", "lawn", 2}, {"gbtd", "gbdt", 1}, {"ca", "abc", 3},
	}
	for _, tt := range tests {
		if got := editDistance(tt.a, tt.b); got != tt.want {
			t.Errorf("editDistance(%q, %q) = %d; want %d", tt.a, tt.b, got, tt.want)
		}
	}
}

func TestCVResolve(t *testing.T) {
	tests := []struct {
		m               CVMethod
		class, temporal bool
		want            CVMethod
	}{
		{CVAuto, true, false, CVStratified}, {CVAuto, false, false, CVKFold},
		{CVAuto, true, true, CVTimeSeries}, {CVAuto, false, true, CVTimeSeries},
		{CVTimeSeries, true, false, CVTimeSeries}, {CVKFold, true, true, CVKFold}, {CVGroup, false, true, CVGroup},
	}
	for _, tt := range tests {
		if got := tt.m.Resolve(tt.class, tt.temporal); got != tt.want {
			t.Errorf("%s.Resolve(%v, %v) = %s; want %s", tt.m, tt.class, tt.temporal, got, tt.want)
		}
	}
}

// TestSegmentFloorNeedsSegmentColumn: a per-segment floor without the
// segment column to apply it to is refused, naming the key.
func TestSegmentFloorNeedsSegmentColumn(t *testing.T) {
	c := Default()
	c.MinSegmentBusinessAccuracy = 60
	if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "min_segment_business_accuracy: needs segment_column") {
		t.Errorf("Validate() = %v; want the floor refused without segment_column", err)
	}
	c.SegmentColumn = "Neighborhood"
	if err := c.Validate(); err != nil {
		t.Errorf("with segment_column: %v", err)
	}
}

func TestParseTrustedProxy(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"192.0.2.7", "192.0.2.7/32"},
		{"::1", "::1/128"},
		{"10.1.2.3/8", "10.0.0.0/8"},
		{"::ffff:192.0.2.7", "192.0.2.7/32"},
		{"::ffff:10.0.0.0/104", "10.0.0.0/8"},
	} {
		got, err := ParseTrustedProxy(tt.in)
		if err != nil || got.String() != tt.want {
			t.Errorf("ParseTrustedProxy(%q) = %v, %v; want %s", tt.in, got, err, tt.want)
		}
	}
	for _, in := range []string{"", "10.0.0.0/33", "fe80::1%eth0", "localhost"} {
		if got, err := ParseTrustedProxy(in); err == nil {
			t.Errorf("ParseTrustedProxy(%q) = %v; want an error", in, got)
		}
	}
}
