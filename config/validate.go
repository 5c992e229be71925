package config

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math"
	"net/netip"
	"slices"
	"strings"
	"time"
)

// Validate checks every key's value and the rules between keys. It returns
// nil or an error listing every problem, each a *KeyError that names the
// key and the allowed values or range, e.g.
//
//	task: "foo" is not one of auto, regression, binary, multiclass
//	min_r2_threshold: 1.5 out of range [-inf, 1]
//
// Validate does not require data or target (config show needs neither);
// ValidateTrain does.
func (c *Config) Validate() error {
	var p problems
	c.checkEnums(&p)
	c.checkRanges(&p)
	c.checkNames(&p)
	c.checkRules(&p)
	c.checkMissing(&p)
	return join(p)
}

// problems collects what Validate finds, each error a *KeyError.
type problems []error

func (p *problems) bad(key string, format string, args ...any) {
	*p = append(*p, &KeyError{Key: key, Err: fmt.Errorf(format, args...)})
}

func (p *problems) enum(key string, err error) {
	if err != nil {
		*p = append(*p, &KeyError{Key: key, Err: err})
	}
}

// checkEnums checks the keys that take one of a fixed set of values.
func (c *Config) checkEnums(p *problems) {
	p.enum("task", checkEnum(c.Task))
	if _, err := ParseSep(c.Sep); err != nil {
		p.enum("sep", err)
	}
	p.enum("cv", checkEnum(c.CV))
	p.enum("target_transform", checkEnum(c.TargetTransform))
	p.enum("pruner", checkEnum(c.Pruner))
	p.enum("ensemble_method", checkEnum(c.EnsembleMethod))
	p.enum("log_format", checkEnum(c.LogFormat))
	p.enum("log_level", checkEnum(c.LogLevel))
	p.enum("executor", checkEnum(c.Executor))
	p.enum("executor_fallback", checkEnum(c.ExecutorFallback))
	if c.Queue != QueueEmbedded && !strings.HasPrefix(c.Queue, "nats://") && !strings.HasPrefix(c.Queue, "tls://") {
		p.bad("queue", "%q: want embedded or nats://HOST:PORT", c.Queue)
	}
	for _, col := range sortedKeys(c.Schema) {
		if col == "" {
			p.bad("schema", "empty column name")
			continue
		}
		if err := checkEnum(c.Schema[col]); err != nil {
			p.bad("schema", "column %q: %v", col, err)
		}
	}
}

// checkRanges checks numbers and durations against their ranges.
func (c *Config) checkRanges(p *problems) {
	intMin := func(key string, v, lo int) {
		if v < lo {
			p.bad(key, "%d out of range [%d, inf)", v, lo)
		}
	}
	floatRange := func(key string, v, lo, hi float64) {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			p.bad(key, "%s is not a finite number", fmtFloat(v))
		} else if v < lo || v > hi {
			p.bad(key, "%s out of range [%s, %s]", fmtFloat(v), fmtFloat(lo), fmtFloat(hi))
		}
	}
	if !(c.TestFraction > 0 && c.TestFraction < 1) {
		p.bad("test_fraction", "must be in (0, 1), got %s", fmtFloat(c.TestFraction))
	}
	if c.CVFolds != 0 && c.CVFolds < 2 {
		p.bad("cv_folds", "%d must be 0 (no cross-validation) or at least 2", c.CVFolds)
	}
	intMin("workers", c.Workers, 0)
	intMin("max_evals", c.MaxEvals, 1)
	intMin("tune_startup_trials", c.TuneStartupTrials, 0)
	intMin("tune_batch", c.TuneBatch, 0)
	intMin("ensemble_top_k", c.EnsembleTopK, 1)
	intMin("interaction_top_k", c.InteractionTopK, 2)
	intMin("max_interactions", c.MaxInteractions, 1)
	intMin("min_segment_rows", c.MinSegmentRows, 1)
	intMin("temporal_horizon", c.TemporalHorizon, 0)
	intMin("max_explain_rows", c.MaxExplainRows, 0)
	if c.BiasVarianceRounds != 0 && c.BiasVarianceRounds < 2 {
		p.bad("bias_variance_rounds", "%d must be 0 (off) or at least 2", c.BiasVarianceRounds)
	}
	floatRange("min_r2_threshold", c.MinR2Threshold, math.Inf(-1), 1)
	floatRange("min_business_accuracy", c.MinBusinessAccuracy, 0, 100)
	floatRange("min_segment_business_accuracy", c.MinSegmentBusinessAccuracy, 0, 100)
	floatRange("target_encoding_smoothing", c.TargetEncodingSmoothing, 0, math.Inf(1))
	floatRange("min_panel_coverage", c.MinPanelCoverage, 0, 1)
	if c.TimeBudget < 0 {
		p.bad("time_budget", "%s is negative", c.TimeBudget)
	}
	if c.FamilyBudget < 0 {
		p.bad("family_budget", "%s is negative", c.FamilyBudget)
	}
	if c.RunLease < 0 || c.RunLease > 0 && c.RunLease < Duration(300*time.Millisecond) {
		p.bad("run_lease", "%s: want 0 (default 15s) or at least 300ms", c.RunLease)
	}
	if c.ReadMemoryLimit < MemoryAuto {
		p.bad("read_memory_limit", "%d bytes is negative", int64(c.ReadMemoryLimit))
	}
	if c.MaxLatency < 0 {
		p.bad("max_latency", "%s is negative", c.MaxLatency)
	}
	for i, lag := range c.TemporalLags {
		if lag < 1 {
			p.bad("temporal_lags", "element %d: %d out of range [1, inf)", i, lag)
		}
	}
	for i, w := range c.RollingWindows {
		if w < 2 {
			p.bad("rolling_windows", "element %d: %d out of range [2, inf)", i, w)
		}
	}
}

// checkNames checks lists of names and the paths a run writes to.
func (c *Config) checkNames(p *problems) {
	checkNames := func(key string, names []string) {
		seen := make(map[string]bool, len(names))
		for i, n := range names {
			switch {
			case strings.TrimSpace(n) == "":
				p.bad(key, "element %d is empty", i)
			case seen[n]:
				p.bad(key, "%q appears twice", n)
			}
			seen[n] = true
		}
	}
	checkNames("drop", c.Drop)
	for i, v := range c.UITrustedProxies {
		if _, err := ParseTrustedProxy(v); err != nil {
			p.bad("ui_trusted_proxies", "element %d: %v", i, err)
		}
	}
	checkNames("models", c.Models)
	for _, fam := range sortedKeys(c.ModelParams) {
		if strings.TrimSpace(fam) == "" {
			p.bad("model_params", "empty model family name")
		}
		if _, err := json.Marshal(c.ModelParams[fam]); err != nil {
			p.bad("model_params", "%s: %v", fam, err)
		}
	}
	if c.Out == "" {
		p.bad("out", "must not be empty")
	}
	if err := checkStore(c.Store); err != nil {
		p.bad("store", "%v", err)
	}
}

// checkRules checks the rules between keys.
func (c *Config) checkRules(p *problems) {
	if c.Target != "" {
		if slices.Contains(c.Drop, c.Target) {
			p.bad("drop", "contains the target %q", c.Target)
		}
		for _, k := range []struct{ key, col string }{
			{"segment_column", c.SegmentColumn}, {"segment_by", c.SegmentBy},
		} {
			if k.col == c.Target {
				p.bad(k.key, "%q is the target", k.col)
			}
		}
	}
	c.checkTimeColumn(p)
	for _, k := range []struct{ key, col string }{{"segment_column", c.SegmentColumn}, {"segment_by", c.SegmentBy}} {
		if k.col != "" && slices.Contains(c.Drop, k.col) {
			p.bad(k.key, "%q is also in drop; a dropped column cannot split the data", k.col)
		}
	}
	if c.AsOf != "" {
		if _, err := ParseDate(c.AsOf); err != nil {
			p.bad("as_of", "%v", err)
		}
		if c.TimeColumn == "" {
			p.bad("as_of", "needs time_column")
		}
		if c.TestRows != "" {
			p.bad("as_of", "and test_rows both choose the test set; set one")
		}
	}
	if c.CV == CVTimeSeries && c.TimeColumn == "" {
		p.bad("cv", "%q needs time_column", c.CV)
	}
	if c.TargetTransform == TargetTrend && c.TimeColumn == "" {
		p.bad("target_transform", "%q needs time_column (the trend is fitted in time)", c.TargetTransform)
	}
	if c.CV == CVGroup && c.SegmentColumn == "" && c.SegmentBy == "" {
		p.bad("cv", "%q needs segment_column or segment_by to group by", c.CV)
	}
	if c.CVGap < 0 {
		p.bad("cv_gap", "%d must be >= 0", c.CVGap)
	}
	if c.CVGap > 0 && c.CV.Resolve(false, c.TimeColumn != "") != CVTimeSeries {
		p.bad("cv_gap", "only applies to time-series CV (a time_column with cv auto or timeseries)")
	}
	if c.CV == CVStratified && c.Task == TaskRegression {
		p.bad("cv", "%q needs a classification task (task is %s)", c.CV, c.Task)
	}
	if c.PositiveClass != "" && (c.Task == TaskRegression || c.Task == TaskMulticlass) {
		p.bad("positive_class", "only applies to binary tasks (task is %s)", c.Task)
	}
	for _, msg := range validateRules(c.BusinessRules) {
		p.bad("business_rules", "%s", msg)
	}
	c.checkRuleColumns(p)
	if c.ForceProductionQuality && c.MinSegmentBusinessAccuracy > 0 && c.SegmentColumn == "" {
		p.bad("min_segment_business_accuracy", "needs segment_column: the segments held to the floor")
	}
}

// checkTimeColumn checks each name of time_column, one column or a
// comma-separated list ("Year_Sold,Mo_Sold"): compared whole,
// Year_Sold,Sale_Price passed and the run split its test set by the
// target's value.
func (c *Config) checkTimeColumn(p *problems) {
	if c.TimeColumn == "" {
		return
	}
	names := strings.Split(c.TimeColumn, ",")
	for i, n := range names {
		n = strings.TrimSpace(n)
		switch {
		case n == "":
			p.bad("time_column", "%q: name %d is empty", c.TimeColumn, i+1)
		case n == c.Target:
			p.bad("time_column", "%q is the target", n)
		case slices.ContainsFunc(names[:i], func(m string) bool { return strings.TrimSpace(m) == n }):
			p.bad("time_column", "%q appears twice", n)
		}
	}
}

// checkRuleColumns checks the columns business rules read against the
// other keys, so that a rule that could never be checked fails before
// training rather than failing its gate after it.
func (c *Config) checkRuleColumns(p *problems) {
	for _, r := range c.BusinessRules {
		switch {
		case r.Kind == RuleSegmentFloor && c.SegmentColumn == "":
			p.bad("business_rules", "rule %q: segment_floor needs segment_column: the segments held to the floor", r.Name)
		case r.Kind != RuleMonotonic || r.Feature == "":
		case r.Feature == c.Target:
			p.bad("business_rules", "rule %q: feature %q is the target", r.Name, r.Feature)
		case slices.Contains(c.Drop, r.Feature):
			p.bad("business_rules", "rule %q: feature %q is also in drop; the model never reads it", r.Name, r.Feature)
		}
	}
}

// ValidateTrain is Validate plus what training needs: data and target.
func (c *Config) ValidateTrain() error {
	var errs []error
	if err := c.Validate(); err != nil {
		errs = append(errs, err)
	}
	if c.Data == "" {
		errs = append(errs, &KeyError{Key: "data", Err: errors.New("required: the path of the training data")})
	}
	if c.Target == "" {
		errs = append(errs, &KeyError{Key: "target", Err: errors.New("required: the column to predict")})
	}
	return join(flatten(errs))
}

// CheckModels checks that every name in models is one of known, the model
// families the caller's registry offers, suggesting the closest for a
// misspelt one.
func (c *Config) CheckModels(known []string) error {
	var errs []error
	for _, m := range c.Models {
		if slices.Contains(known, m) {
			continue
		}
		err := notOneOf(m, known)
		if s := suggest(m, known); s != "" {
			err = fmt.Errorf("%w; did you mean %s?", err, s)
		}
		errs = append(errs, &KeyError{Key: "models", Err: err})
	}
	return join(errs)
}

// CheckModelParams reports model_params entries for names that are not
// model families (a misspelt "gdbt" was silently ignored), suggesting
// the nearest family.
func (c *Config) CheckModelParams(families []string) error {
	var errs []error
	for _, name := range slices.Sorted(maps.Keys(c.ModelParams)) {
		if slices.Contains(families, name) {
			continue
		}
		err := fmt.Errorf("%q is not a model family (want one of %s)", name, strings.Join(families, ", "))
		if s := suggest(name, families); s != "" {
			err = fmt.Errorf("%w; did you mean %s?", err, s)
		}
		errs = append(errs, &KeyError{Key: "model_params", Err: err})
	}
	return join(errs)
}

// ParseDate parses an as_of date: YYYY-MM-DD, or an RFC 3339 timestamp.
func ParseDate(s string) (time.Time, error) {
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t, nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	return time.Time{}, fmt.Errorf("%q is not a date (YYYY-MM-DD or RFC 3339)", s)
}

// checkStore checks the scheme and path of a store URL.
func checkStore(s string) error {
	scheme, rest, ok := strings.Cut(s, "://")
	switch {
	case !ok:
		return fmt.Errorf("%q is not a URL: want sqlite://PATH or redis://HOST:PORT/DB", s)
	case scheme != "sqlite" && scheme != "redis" && scheme != "rediss":
		return fmt.Errorf("scheme %q is not one of sqlite, redis, rediss", scheme)
	case rest == "":
		return fmt.Errorf("%q has no path or host", s)
	}
	return nil
}

// flatten expands errorLists so a joined error is one flat list.
func flatten(errs []error) []error {
	var out []error
	for _, err := range errs {
		if list, ok := err.(errorList); ok {
			out = append(out, flatten(list)...)
			continue
		}
		out = append(out, err)
	}
	return out
}

func fmtFloat(f float64) string {
	switch {
	case math.IsInf(f, 1):
		return "inf"
	case math.IsInf(f, -1):
		return "-inf"
	case math.IsNaN(f):
		return "nan"
	}
	return fmt.Sprint(f)
}

func sortedKeys[M ~map[K]V, K ~string, V any](m M) []K {
	keys := make([]K, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// ParseSep turns a separator as users type it into the rune a CSV reader
// takes: "," ";" "|" as themselves, "tab" or "\t" (escaped or literal) as
// a tab. "" gives 0, which the readers take as "detect it".
func ParseSep(s string) (rune, error) {
	switch s {
	case "":
		return 0, nil
	case ",", ";", "|":
		return rune(s[0]), nil
	case "tab", `\t`, "\t":
		return '\t', nil
	}
	return 0, fmt.Errorf("separator %q is not one of , ; tab |", s)
}

// ParseTrustedProxy parses an element of ui_trusted_proxies: a CIDR
// range (10.0.0.0/8, fd00::/8) or one address (192.0.2.7, ::1), which
// is the range of that address alone. An IPv4-mapped IPv6 address is
// its IPv4 address, as the dashboard compares peers.
func ParseTrustedProxy(s string) (netip.Prefix, error) {
	if a, err := netip.ParseAddr(s); err == nil && a.Zone() == "" {
		a = a.Unmap()
		return netip.PrefixFrom(a, a.BitLen()), nil
	}
	p, err := netip.ParsePrefix(s)
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("%q is neither an IP address nor a CIDR range", s)
	}
	if p.Addr().Is4In6() && p.Bits() >= 96 {
		p = netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96)
	}
	return p.Masked(), nil
}

// TrustedProxies returns ui_trusted_proxies parsed (see
// ParseTrustedProxy); a config that passed Validate gives no error.
func (c *Config) TrustedProxies() ([]netip.Prefix, error) {
	out := make([]netip.Prefix, 0, len(c.UITrustedProxies))
	for _, s := range c.UITrustedProxies {
		p, err := ParseTrustedProxy(s)
		if err != nil {
			return nil, &KeyError{Key: "ui_trusted_proxies", Err: err}
		}
		out = append(out, p)
	}
	return out, nil
}
