package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/tabforge/tabforge/explain"
	"github.com/tabforge/tabforge/frame"
	"github.com/tabforge/tabforge/model"
	"github.com/tabforge/tabforge/pipeline"
)

const explainLong = `Explain computes SHAP values of a saved model on rows of a CSV or Parquet file:
exact TreeSHAP for tree, forest and gbdt models (gbdt in margin space, as XGBoost's
pred_contribs), exact linear SHAP for ols, ridge and logistic models (logistic in
log-odds), and KernelSHAP for anything else. Features are the model's input
columns (the design matrix; ensembles and per-segment models, which have none,
are explained on the data's own columns); a model fitted on log(1+y) is explained on that
scale (margin). An ensemble whose members all have exact explainers of their predictions
(tree, forest, ols, ridge, regression gbdt) and whose combination is linear in them
(averages, selection weights, stacking) gets its members' exact values combined with its
weights, each column the sum of its design features. An ensemble with binary gbdt or
logistic classifiers or members fitted on log(1+y) gets interventional SHAP over up to
100 background rows (the training rows the model keeps, else rows of the data): each
member's margin values against each background row are rescaled through its link
(sigmoid, exp) as SHAP's TreeExplainer with model_output="probability" does, then
combined the same way; deterministic, fast and locally accurate against the mean
prediction over the background, but not the Shapley values of the probability itself.
Other ensembles (multiclass ones with softmax members) and per-segment models get
KernelSHAP, the notes saying why; --method kernel asks for KernelSHAP on any
ensemble. --out writes one row per explained row, in the order --rows
gives them (a sample keeps input order; --json's row_index holds each one's
data row), with one column per feature plus base_value (for multiclass models one block
per class, columns FEATURE@CLASS); a .parquet name writes Parquet. --method lime
writes LIME coefficients instead (one column per feature plus intercept and score).
When a feature has the name of one of those extra columns, the extra column takes a
trailing underscore (base_value_, intercept_, score_). --raw explains the data's own columns instead, with KernelSHAP over the whole
pipeline (feature chain, encoding and model).

Without --rows at most max_explain_rows rows (config key, default 1000) are
explained, sampled with the config's seed; the summary lists mean |SHAP| per feature.
KernelSHAP and LIME cost seconds per row on a wide ensemble, interventional
SHAP milliseconds: they show the rows done (interventional SHAP: over all
members, one after another) as a progress bar on a terminal, or log them
every 10 seconds otherwise. Ctrl-C stops them within a batch of predictions and writes nothing.`

func (a *app) explainCommand() *cobra.Command {
	var modelPath, dataPath, rowsFlag, out, methodFlag string
	var asJSON, raw bool
	var top int
	cmd := &cobra.Command{
		Use:   "explain --model REF --data PATH [--rows 0,5,10-20] [--out shap.csv|shap.parquet]",
		Short: "Explain a saved model's predictions with SHAP values (or LIME)",
		Long:  explainLong,
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			method, rows, err := parseExplainFlags(modelPath, dataPath, rowsFlag, out, methodFlag, raw, top)
			if err != nil {
				return err
			}
			cfg, _, err := a.loadConfig(cmd)
			if err != nil {
				return err
			}
			p, err := a.loadModel(cmd, modelPath)
			if err != nil {
				return err
			}
			data, err := a.readExplainData(cmd, p, dataPath, out, raw, asJSON)
			if err != nil {
				return err
			}
			log, err := a.logger()
			if err != nil {
				return err
			}
			// KernelSHAP and LIME take seconds per row: show them move.
			bars := newProgressLogged(a.stderr, a.logSink(), log, explainLogEvery)
			opts := pipeline.ExplainOptions{Rows: rows, MaxRows: cfg.MaxExplainRows, Raw: raw,
				Options: explain.Options{Method: method, Workers: cfg.Workers, Seed: cfg.Seed, Progress: bars.event}}
			if method == explain.MethodLIME {
				return a.explainLIME(cmd, p, data, opts, bars, out, dataPath, asJSON, top)
			}
			v, err := data.shap(cmd.Context(), p, opts)
			bars.wait()
			if err != nil {
				return explainError(cmd, dataPath, out, err)
			}
			if out != "" {
				f, err := shapFrame(v)
				if err != nil {
					return err
				}
				if err := frame.WriteFile(out, f); err != nil {
					return err
				}
			}
			return a.printSHAPSummary(v, p, out, top, asJSON)
		},
	}
	f := cmd.Flags()
	f.StringVar(&modelPath, "model", "", "model: a saved model file, or NAME@production, NAME@staging, NAME@ALIAS, NAME/VERSION or VERSION from --store")
	f.StringVar(&dataPath, "data", "", "data file (.csv or .parquet)")
	f.StringVar(&rowsFlag, "rows", "", "0-based data rows to explain, e.g. 0,5,10-20 (default: a sample of max_explain_rows)")
	f.StringVar(&out, "out", "", "write the values to this .csv or .parquet file")
	f.StringVar(&methodFlag, "method", "auto", "auto, tree, linear, kernel or lime")
	f.IntVar(&top, "top", 10, "features listed in the summary (0 = all)")
	f.BoolVar(&raw, "raw", false, "explain the raw input columns (KernelSHAP over the whole pipeline) instead of the model's input features")
	f.BoolVar(&asJSON, "json", false, "print the summary as JSON")
	return cmd
}

// explainData is the data explain reads: a frame held whole, or, when
// the rows explained are all it needs (pipeline.ExplainStreams), a file
// checked a block of rows at a time and read again for those rows.
type explainData struct {
	x    *frame.Frame
	scan *pipeline.ScannedInput
}

// readExplainData reads or scans the data file path for p, checking it
// against p's input contract as readInput does. A file is scanned when
// p is explained against training rows; raw is --raw. An interrupted
// scan says that out, --out, is not written, as an interrupted
// explanation does.
func (a *app) readExplainData(cmd *cobra.Command, p *pipeline.Predictor, path, out string, raw, asJSON bool) (explainData, error) {
	if !pipeline.ExplainStreams(p, pipeline.ExplainOptions{Raw: raw}) || !frame.IsDataFile(path) {
		x, _, err := a.readInput(p, path, false, asJSON)
		return explainData{x: x}, err
	}
	s, err := p.ScanInput(cmd.Context(), pipeline.OpenFileBlocks(path), pipeline.StreamOptions{Read: a.readOptions()})
	if s == nil {
		if cerr := cmd.Context().Err(); cerr != nil && errors.Is(err, cerr) {
			return explainData{}, explainError(cmd, path, out, err)
		}
		return explainData{}, err
	}
	return explainData{scan: s}, a.checkReport(p, path, s.Report, false, asJSON)
}

// shap is pipeline.Explain on the data.
func (d explainData) shap(ctx context.Context, p *pipeline.Predictor, o pipeline.ExplainOptions) (*explain.Values, error) {
	if d.scan != nil {
		return pipeline.ExplainScanned(ctx, p, d.scan, o)
	}
	return pipeline.Explain(ctx, p, d.x, o)
}

// lime is pipeline.LIME on the data.
func (d explainData) lime(ctx context.Context, p *pipeline.Predictor, o pipeline.ExplainOptions) (*explain.LIMEExplanation, []int, error) {
	if d.scan != nil {
		return pipeline.LIMEScanned(ctx, p, d.scan, o)
	}
	return pipeline.LIME(ctx, p, d.x, o)
}

// explainLogEvery is how often explain logs its progress when stderr is
// not a terminal.
const explainLogEvery = 10 * time.Second

// explainError is explain's error for err, saying so when the user
// interrupted the run (Ctrl-C), and that no --out was written.
func explainError(cmd *cobra.Command, dataPath, out string, err error) error {
	if cerr := cmd.Context().Err(); cerr != nil && errors.Is(err, cerr) {
		if out != "" {
			return fmt.Errorf("explain %s: interrupted; %s not written: %w", dataPath, out, err)
		}
		return fmt.Errorf("explain %s: interrupted: %w", dataPath, err)
	}
	return fmt.Errorf("explain %s: %w", dataPath, err)
}

// parseExplainFlags checks explain's flags and parses --method and
// --rows, so that a mistake in them is a usage error before the config,
// the model or the data is loaded.
func parseExplainFlags(modelPath, dataPath, rowsFlag, out, methodFlag string, raw bool, top int) (explain.Method, []int, error) {
	if modelPath == "" || dataPath == "" {
		return "", nil, usagef("explain: --model and --data are required")
	}
	if top < 0 {
		return "", nil, usagef("explain: --top %d: want 0 (all features) or more", top)
	}
	method, err := explain.ParseMethod(methodFlag)
	if err != nil {
		return "", nil, usageError{err}
	}
	var rows []int
	if rowsFlag != "" {
		if rows, err = explain.ParseRows(rowsFlag); err != nil {
			return "", nil, usageError{err}
		}
	}
	if out != "" {
		if ext := strings.ToLower(filepath.Ext(out)); ext != ".csv" && ext != ".parquet" {
			return "", nil, usagef("explain: --out must end in .csv or .parquet, not %q", out)
		}
		if err := outIsNotFile("explain", fileFlag{"--out", out}, fileFlag{"--data", dataPath}, fileFlag{"--model", modelPath}); err != nil {
			return "", nil, err
		}
	}
	if raw && method != explain.MethodAuto && method != explain.MethodKernel {
		return "", nil, usagef("explain: --raw explains the whole pipeline with KernelSHAP; drop --method %s", method)
	}
	return method, rows, nil
}

// shapFrame lays Values out as a frame: per output, one column per
// feature and base_value.
func shapFrame(v *explain.Values) (*frame.Frame, error) {
	var cols []*frame.Column
	for k := range v.Outputs {
		suffix := ""
		if v.Outputs > 1 {
			name := fmt.Sprint(k)
			if k < len(v.OutputNames) {
				name = v.OutputNames[k]
			}
			suffix = "@" + name
		}
		for j, name := range v.FeatureNames {
			c := make([]float64, v.Rows)
			for r := range v.Rows {
				c[r] = v.Row(r, k)[j]
			}
			cols = append(cols, frame.NewNumeric(name+suffix, c))
		}
		base := make([]float64, v.Rows)
		for r := range base {
			base[r] = v.BaseValue[k]
		}
		cols = append(cols, frame.NewNumeric(freeName("base_value"+suffix, v.FeatureNames, suffix), base))
	}
	f, err := frame.New(cols...)
	if err != nil {
		return nil, fmt.Errorf("explain: output columns: %w", err)
	}
	return f, nil
}

// freeName is name, or name with underscores added before suffix until
// no feature (named feature+suffix in the output) takes it: a feature
// may itself be called base_value, intercept or score, and the output
// could not hold both columns.
func freeName(name string, features []string, suffix string) string {
	taken := make(map[string]bool, len(features))
	for _, f := range features {
		taken[f+suffix] = true
	}
	stem := strings.TrimSuffix(name, suffix)
	for taken[name] {
		stem += "_"
		name = stem + suffix
	}
	return name
}

// shapSummary is the --json output of explain.
type shapSummary struct {
	Model     string             `json:"model"`
	Members   []string           `json:"members,omitempty"` // an ensemble's
	Method    explain.Method     `json:"method"`
	Output    explain.Output     `json:"output"`
	Exact     bool               `json:"exact"`
	Rows      int                `json:"rows"`
	Features  int                `json:"features"`
	RowIndex  []int              `json:"row_index"`
	BaseValue []float64          `json:"base_value"`
	Outputs   []string           `json:"outputs,omitempty"`
	Top       [][]explain.Ranked `json:"top"` // per output
	Notes     []string           `json:"notes,omitempty"`
	Out       string             `json:"out,omitempty"`
}

func (a *app) printSHAPSummary(v *explain.Values, p *pipeline.Predictor, out string, top int, asJSON bool) error {
	s := shapSummary{Model: p.Family(), Members: p.MemberNames(), Method: v.Method, Output: v.Output, Exact: v.Exact, Rows: v.Rows,
		Features: v.Features, RowIndex: v.RowIndex, BaseValue: v.BaseValue, Outputs: v.OutputNames, Notes: v.Notes, Out: out}
	for k := range v.Outputs {
		s.Top = append(s.Top, v.Top(k, top))
	}
	if asJSON {
		return json.NewEncoder(a.stdout).Encode(s)
	}
	for _, n := range v.Notes {
		fmt.Fprintf(a.stderr, "note: %s\n", n)
	}
	kind := "sampled estimate"
	switch {
	case v.Exact:
		kind = "exact"
	case v.Method == explain.MethodInterventional:
		kind = "rescaled through the members' links" // deterministic, but not Shapley values of the prediction
	}
	fmt.Fprintf(a.stdout, "%s SHAP values (%s, %s) of the %s model for %d rows × %d features\n", v.Method, v.Output, kind, modelText(p), v.Rows, v.Features)
	if out != "" {
		fmt.Fprintf(a.stdout, "wrote %s\n", out)
	}
	for k := range v.Outputs {
		label := ""
		if v.Outputs > 1 || len(v.OutputNames) > 0 {
			label = fmt.Sprintf(" for %s", outputName(v, k))
		}
		fmt.Fprintf(a.stdout, "base value%s: %.6g; top features by mean |SHAP|:\n", label, v.BaseValue[k])
		tw := tabwriter.NewWriter(a.stdout, 0, 0, 2, ' ', 0)
		for i, r := range s.Top[k] {
			fmt.Fprintf(tw, "  %d\t%s\t%.6g\n", i+1, r.Feature, r.MeanAbs)
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	return nil
}

func outputName(v *explain.Values, k int) string {
	if k < len(v.OutputNames) {
		return v.OutputNames[k]
	}
	return fmt.Sprint(k)
}

// explainLIME runs LIME on the chosen rows (output 0, or class 1 of a
// binary model's probability) and writes one row of coefficients per
// explained row.
func (a *app) explainLIME(cmd *cobra.Command, p *pipeline.Predictor, data explainData, o pipeline.ExplainOptions, bars *progressBars, out, dataPath string, asJSON bool, top int) error {
	ex, rows, err := data.lime(cmd.Context(), p, o)
	bars.wait()
	if err != nil {
		return explainError(cmd, dataPath, out, err)
	}
	if out != "" {
		var cols []*frame.Column
		for j, name := range ex.FeatureNames {
			c := make([]float64, len(rows))
			for i, res := range ex.Results {
				c[i] = res.Coef[j]
			}
			cols = append(cols, frame.NewNumeric(name, c))
		}
		icpt, score := make([]float64, len(rows)), make([]float64, len(rows))
		for i, res := range ex.Results {
			icpt[i], score[i] = res.Intercept, res.Score
		}
		cols = append(cols, frame.NewNumeric(freeName("intercept", ex.FeatureNames, ""), icpt),
			frame.NewNumeric(freeName("score", ex.FeatureNames, ""), score))
		f, err := frame.New(cols...)
		if err != nil {
			return fmt.Errorf("explain: output columns: %w", err)
		}
		if err := frame.WriteFile(out, f); err != nil {
			return err
		}
	}
	if asJSON {
		return json.NewEncoder(a.stdout).Encode(map[string]any{"model": p.Family(), "members": p.MemberNames(), "method": explain.MethodLIME,
			"rows": len(rows), "row_index": rows, "results": ex.Results, "feature_names": ex.FeatureNames, "out": out})
	}
	fmt.Fprintf(a.stdout, "LIME surrogates of the %s model for %d rows × %d features\n", modelText(p), len(rows), len(ex.FeatureNames))
	if out != "" {
		fmt.Fprintf(a.stdout, "wrote %s\n", out)
	}
	if p.Target.Task == model.Multiclass {
		fmt.Fprintln(a.stdout, "explained output: probability of the first class")
	}
	res := ex.Results[0]
	fmt.Fprintf(a.stdout, "row %d: prediction %.6g, surrogate %.6g (weighted R² %.3f); top features:\n", rows[0], res.Prediction, res.Local, res.Score)
	n := len(res.Selected)
	if top > 0 {
		n = min(top, n) // 0 lists all, as the SHAP summary does
	}
	tw := tabwriter.NewWriter(a.stdout, 0, 0, 2, ' ', 0)
	for i, j := range res.Selected[:n] {
		fmt.Fprintf(tw, "  %d\t%s\t%.6g\n", i+1, ex.FeatureNames[j], res.Coef[j])
	}
	return tw.Flush()
}

// modelText names p's model for a line of text: its family, or an
// ensemble's leaderboard name followed by its members.
func modelText(p *pipeline.Predictor) string {
	if names := p.MemberNames(); len(names) > 0 {
		return fmt.Sprintf("%s (members %s)", p.Family(), strings.Join(names, ", "))
	}
	return p.Family()
}
