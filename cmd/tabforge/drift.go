package main

import (
	"encoding/json"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/tabforge/tabforge/config"
	"github.com/tabforge/tabforge/drift"
	"github.com/tabforge/tabforge/frame"
	"github.com/tabforge/tabforge/monitor"
	"github.com/tabforge/tabforge/pipeline"
	"github.com/tabforge/tabforge/report"
)

func (a *app) driftCommand() *cobra.Command {
	var refPath, curPath, target, modelRef, htmlOut string
	var asJSON, record bool
	cmd := &cobra.Command{
		Use:   "drift --reference PATH --current PATH [--target T] [--model REF] [--record]",
		Short: "Measure how far current data has drifted from reference data",
		Long: `Drift compares a current data file with a reference one (say, the data a
model was trained on), column by column. Up to 1,000 reference values a
column is tested with Kolmogorov–Smirnov (numbers) or chi-squared
(categories), drifted when p < 0.05; beyond, the Wasserstein distance over
the reference standard deviation or the Jensen–Shannon distance is compared
with 0.1. Each column also gets its PSI over ten reference quantile bins.
The dataset drifts when at least half of the compared features drift.

--target tests the target column apart. --model (a model file or a
registered NAME@production, NAME/VERSION, ...) restricts the features to the
model's inputs, tests its target if both files have it, and tests the
drift of its predictions. --html writes a page with every column's
distributions side by side. --record keeps the report in the store
(--store) for the dashboard's /monitor page.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if refPath == "" || curPath == "" {
				return usagef("drift: --reference and --current are required")
			}
			if htmlOut != "" {
				if err := outIsNotFile("drift", fileFlag{"--html", htmlOut}, fileFlag{"--reference", refPath}, fileFlag{"--current", curPath}); err != nil {
					return err
				}
			}
			opts := drift.Options{Target: target}
			read := a.readOptions()
			if modelRef != "" {
				out := driftOut{htmlOut, asJSON, recordTitle(record, refPath, curPath, modelRef)}
				return a.driftOfModel(cmd, modelRef, refPath, curPath, read, opts, out)
			}
			ref, cur, err := drift.ReadFiles(refPath, curPath, read)
			if err != nil {
				return err
			}
			// The current file is read with the reference's kinds: only
			// the reference's inferences can surprise.
			for _, w := range pipeline.ReadWarnings(refPath, ref, read) {
				fmt.Fprintf(a.stderr, "warning: %s: %s\n", refPath, w)
			}
			return a.runDrift(cmd, ref, cur, opts, driftOut{htmlOut, asJSON, recordTitle(record, refPath, curPath, "")})
		},
	}
	f := cmd.Flags()
	f.StringVar(&refPath, "reference", "", "reference data file (.csv or .parquet), e.g. the training data")
	f.StringVar(&curPath, "current", "", "current data file (.csv or .parquet)")
	f.StringVar(&target, "target", "", "target column, tested apart from the features")
	f.StringVar(&modelRef, "model", "", "model whose inputs and predictions to test: a saved model file, or NAME@production, NAME@ALIAS, NAME/VERSION or VERSION from --store")
	f.StringVar(&htmlOut, "html", "", "write an HTML page with the distributions side by side to this file")
	f.BoolVar(&asJSON, "json", false, "print the drift report as JSON")
	f.BoolVar(&record, "record", false, "also record the report in the store (--store), for tabforge ui's /monitor page")
	return cmd
}

// driftOfModel runs drift restricted to the model's inputs, its target
// when both files hold it and no --target was given, and its predictions.
func (a *app) driftOfModel(cmd *cobra.Command, modelRef, refPath, curPath string, read frame.ReadOptions, opts drift.Options, out driftOut) error {
	p, err := a.loadModel(cmd, modelRef)
	if err != nil {
		return err
	}
	read = p.ReadOptions(read)
	read.Schema, read.SchemaOptional = p.InputSchema(), true
	opts.Predict = p.PredictionColumn
	for _, f := range p.Schema {
		opts.Columns = append(opts.Columns, f.Name)
	}
	ref, cur, err := drift.ReadFiles(refPath, curPath, read)
	if err != nil {
		return err
	}
	if err := p.CheckInput(ref).Err(false); err != nil {
		return fmt.Errorf("%s: %w", refPath, err)
	}
	if err := p.CheckInput(cur).Err(false); err != nil {
		return fmt.Errorf("%s: %w", curPath, err)
	}
	if _, ok := cur.Lookup(p.Target.Name); ok && opts.Target == "" {
		if _, ok := ref.Lookup(p.Target.Name); ok {
			opts.Target = p.Target.Name
		}
	}
	return a.runDrift(cmd, ref, cur, opts, out)
}

// driftOut is where a drift report goes besides stdout: an HTML page,
// JSON instead of the table, and the store when record is set (the
// title it is recorded under).
type driftOut struct {
	html   string
	asJSON bool
	record string
}

// recordTitle names a recorded drift report: "" when not recording.
func recordTitle(record bool, ref, cur, model string) string {
	if !record {
		return ""
	}
	t := ref + " → " + cur
	if model != "" {
		t += " (model " + model + ")"
	}
	return t
}

// runDrift compares, writes the page if asked and prints the report.
func (a *app) runDrift(cmd *cobra.Command, ref, cur *frame.Frame, opts drift.Options, out driftOut) error {
	r, err := drift.Compare(cmd.Context(), ref, cur, opts)
	if err != nil {
		return err
	}
	if out.html != "" {
		if err := report.WriteDrift(out.html, r, ""); err != nil {
			return err
		}
	}
	var rec *monitorRecord
	if out.record != "" {
		if rec, err = a.recordMonitor(cmd, monitor.DriftKind, out.record, r); err != nil {
			return err
		}
	}
	if out.asJSON {
		return json.NewEncoder(a.stdout).Encode(struct {
			*drift.Report
			Record *monitorRecord `json:"record,omitempty"`
		}{r, rec})
	}
	if err := printDrift(a.stdout, r, out.html); err != nil {
		return err
	}
	rec.print(a.stdout, "drift report")
	return nil
}

// monitorRecord says where recordMonitor kept a report: the store (its
// URL, credentials redacted), the record kind and key.
type monitorRecord struct {
	Store string `json:"store"`
	Kind  string `json:"kind"`
	Key   string `json:"key"`
}

// print says where the report went and how to see it again; nothing for
// a report not recorded.
func (rec *monitorRecord) print(w io.Writer, what string) {
	if rec != nil {
		fmt.Fprintf(w, "recorded this %s in %s as %s %s; see it with tabforge ui --store %s (page /monitor)\n", what, rec.Store, rec.Kind, rec.Key, rec.Store)
	}
}

// recordMonitor keeps a monitoring report in the command's store.
func (a *app) recordMonitor(cmd *cobra.Command, kind, title string, report any) (*monitorRecord, error) {
	st, err := a.storeFor(cmd, toWrite)
	if err != nil {
		return nil, err
	}
	defer st.Close()
	key, err := monitor.Record(cmd.Context(), st, kind, title, report, time.Now())
	if err != nil {
		return nil, err
	}
	return &monitorRecord{Store: config.RedactURL(st.URL()), Kind: kind, Key: key}, nil
}

func printDrift(w io.Writer, r *drift.Report, htmlOut string) error {
	verdict := "no"
	if r.DatasetDrift {
		verdict = "YES"
	}
	fmt.Fprintf(w, "dataset drift: %s (%d of %d features drifted, %.0f%%; threshold %.0f%%)\n",
		verdict, r.Drifted, r.Compared, 100*r.DriftedShare, 100*r.ShareThreshold)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "COLUMN\tROLE\tMETHOD\tSTATISTIC\tP-VALUE\tDRIFT\tPSI")
	line := func(role string, c drift.Column) {
		if c.Method == drift.Skipped {
			fmt.Fprintf(tw, "%s\t%s\tskipped\t\t\t-\t(%s)\n", c.Name, role, c.Reason)
			return
		}
		p := ""
		if c.PValue != nil {
			p = fmt.Sprintf("%.3g", *c.PValue)
		}
		d := "no"
		if c.Drifted {
			d = "DRIFT"
		}
		stat := fmt.Sprintf("%.4g", c.Statistic)
		if c.Reason != "" {
			stat = "-" // not computed: the reason says why, after PSI
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%.3g %s", c.Name, role, c.Method, stat, p, d, c.PSI, c.PSIBand)
		if c.Reason != "" {
			fmt.Fprintf(tw, " (%s)", c.Reason)
		}
		fmt.Fprintln(tw)
	}
	if r.Target != nil {
		line("target", *r.Target)
	}
	if r.Prediction != nil {
		line("prediction", *r.Prediction)
	}
	for _, c := range r.Columns {
		line("feature", c)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if htmlOut != "" {
		fmt.Fprintf(w, "wrote %s\n", htmlOut)
	}
	return nil
}
