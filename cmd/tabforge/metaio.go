package main

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/tabforge/tabforge/meta"
	"github.com/tabforge/tabforge/store"
)

// metaExportCommand is `tabforge meta export`: the store's knowledge base
// alone (store export carries it among everything else), in the format
// meta build writes and meta eval --kb reads.
func (a *app) metaExportCommand() *cobra.Command {
	var out string
	cmd := &cobra.Command{
		Use:   "export --out FILE",
		Short: "Write the store's knowledge base (meta-features and evaluations) to a gzip JSON file",
		Long: `Export writes every dataset and evaluation of the store's knowledge base (what
train runs recorded; not the knowledge base shipped in the binary) to FILE,
atomically, in the format of meta build: meta import loads it into another
store and meta eval --kb evaluates it.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if out == "" {
				return usagef("meta export: --out is required")
			}
			return a.withStore(cmd, toRead, func(st store.Store) error {
				s, err := (&meta.KB{Records: st}).Snapshot(cmd.Context())
				if err != nil {
					return err
				}
				if err := s.WriteFile(out); err != nil {
					return err
				}
				fmt.Fprintf(a.stdout, "exported the knowledge base of %s to %s: %d datasets, %d evaluations\n", st.URL(), out, len(s.Datasets), len(s.Evals))
				return nil
			})
		},
	}
	cmd.Flags().StringVar(&out, "out", "", "file to write (gzip JSON)")
	return cmd
}

// metaImportCommand is `tabforge meta import`: the file is read and
// checked whole before the store is written.
func (a *app) metaImportCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "import FILE",
		Short: "Load a knowledge base file (meta export or meta build) into the store; existing keys are replaced",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			f, err := os.Open(args[0])
			if err != nil {
				return err
			}
			defer f.Close()
			s, err := meta.ReadSnapshot(f)
			if err != nil {
				return fmt.Errorf("%s: %w", args[0], err)
			}
			return a.withStore(cmd, toWrite, func(st store.Store) error {
				nd, ne, err := (&meta.KB{Records: st}).Import(cmd.Context(), s)
				if err != nil {
					return err
				}
				fmt.Fprintf(a.stdout, "imported %s into %s: %d datasets, %d evaluations\n", args[0], st.URL(), nd, ne)
				return nil
			})
		},
	}
}
