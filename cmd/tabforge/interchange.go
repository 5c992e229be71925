package main

import (
	"bytes"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/tabforge/tabforge/model"
	"github.com/tabforge/tabforge/pipeline"
)

func (a *app) exportCommand() *cobra.Command {
	var modelPath, format, out string
	cmd := &cobra.Command{
		Use:   "export --model REF --format xgboost-json --out FILE",
		Short: "Export a gbdt model to XGBoost's JSON format",
		Long: `Export writes a saved gbdt model as an XGBoost JSON model that
xgboost.Booster(model_file=FILE) loads. XGBoost sees tabforge's design matrix
(the preprocessed features, named in the file), not the raw table.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if modelPath == "" || out == "" {
				return usagef("export: --model and --out are required")
			}
			if format != "xgboost-json" {
				return usagef("export: --format %q is not supported (supported: xgboost-json)", format)
			}
			if err := outIsNotFile("export", fileFlag{"--out", out}, fileFlag{"--model", modelPath}); err != nil {
				return err
			}
			p, err := a.loadModel(cmd, modelPath)
			if err != nil {
				return err
			}
			var buf bytes.Buffer
			if err := pipeline.ExportXGBoost(&buf, p); err != nil {
				return fmt.Errorf("export %s: %w", modelPath, err)
			}
			if err := model.WriteFileAtomic(out, buf.Bytes()); err != nil {
				return err
			}
			fmt.Fprintf(a.stdout, "wrote %s (%d features: %v)\n", out, len(p.Design.FeatureNames()), abbreviate(p.Design.FeatureNames(), 6))
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&modelPath, "model", "", "model: a saved model file, or NAME@production, NAME@staging, NAME@ALIAS, NAME/VERSION or VERSION from --store")
	f.StringVar(&format, "format", "xgboost-json", "output format: xgboost-json")
	f.StringVar(&out, "out", "", "output file")
	return cmd
}

func (a *app) importCommand() *cobra.Command {
	var in, format, out, target string
	cmd := &cobra.Command{
		Use:   "import --format xgboost-json --in FILE --out MODEL",
		Short: "Import an XGBoost JSON model as a tabforge model",
		Long: `Import reads an XGBoost JSON model (reg:squarederror, binary:logistic,
multi:softprob, ...) and saves it as a tabforge model whose inputs are numeric
columns named after the model's features (f0, f1, ... when unnamed), ready for
tabforge predict.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if in == "" || out == "" {
				return usagef("import: --in and --out are required")
			}
			if format != "xgboost-json" {
				return usagef("import: --format %q is not supported (supported: xgboost-json)", format)
			}
			if err := outIsNotFile("import", fileFlag{"--out", out}, fileFlag{"--in", in}); err != nil {
				return err
			}
			f, err := os.Open(in)
			if err != nil {
				return err
			}
			defer f.Close()
			p, err := pipeline.ImportXGBoost(f, target)
			if err != nil {
				return fmt.Errorf("import %s: %w", in, err)
			}
			if err := p.Save(out); err != nil {
				return err
			}
			fmt.Fprintf(a.stdout, "wrote %s (%s, %d inputs)\n", out, p.Target.Task, len(p.Schema))
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&in, "in", "", "XGBoost JSON model file")
	fl.StringVar(&format, "format", "xgboost-json", "input format: xgboost-json")
	fl.StringVar(&out, "out", "", "tabforge model file to write")
	fl.StringVar(&target, "target", "target", "name of the predicted quantity")
	return cmd
}

func abbreviate(s []string, n int) []string {
	if len(s) <= n {
		return s
	}
	return append(s[:n:n], "...")
}
