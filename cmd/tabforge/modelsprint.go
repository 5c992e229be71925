package main

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/tabforge/tabforge/registry"
)

// printRegistered says what train's register stage did.
func printRegistered(w io.Writer, m *registry.Model, created bool) {
	how := "registered"
	if !created {
		how = "already registered (same data, config, seed and code; this run is added to its lineage)"
	}
	deploy := ""
	if !m.Deployable {
		deploy = ", not deployable"
	}
	fmt.Fprintf(w, "model version %s %s, name %s, stage %s%s\n", m.Version, how, m.Name, m.Stage, deploy)
}

// headlineMetric is the metric a list shows for a task.
func headlineMetric(m *registry.Model) string {
	for _, k := range []string{"r2", "auc", "accuracy"} {
		if v, ok := m.Metrics[k]; ok && (k != "r2" || m.Task == "regression") {
			return k + " " + formatMetric(k, v)
		}
	}
	return "-"
}

// printModels prints ms (grouped by name, as List returns them) as one
// table, naming each name once, on the first row of its group.
func printModels(w io.Writer, ms []*registry.Model) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tVERSION\tSTAGE\tALIASES\tCREATED\tFAMILY\tTASK\tTEST\tDEPLOYABLE\tRUN\tDATASET")
	for i, m := range ms {
		name := m.Name
		if i > 0 && ms[i-1].Name == m.Name {
			name = ""
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", name, m.Version, m.Stage, dash(strings.Join(m.Aliases, ",")),
			m.Created.UTC().Format("2006-01-02 15:04:05"), m.Family, m.Task, headlineMetric(m), yesNo(m.Deployable), m.RunID, shortHash(m.DatasetHash))
	}
	tw.Flush()
}

func printDetails(w io.Writer, d *registry.Details) {
	m, l := d.Model, d.Lineage
	fmt.Fprintf(w, "model %s  name %s  stage %s  deployable %s\n", m.Version, m.Name, describeStage(m), yesNo(m.Deployable))
	fmt.Fprintf(w, "family %s  task %s  target %s  created %s\n", m.Family, m.Task, m.Target, m.Created.UTC().Format(time.RFC3339))
	keys := make([]string, 0, len(m.Metrics))
	for k := range m.Metrics {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var parts []string
	for _, k := range keys {
		parts = append(parts, k+" "+formatMetric(k, m.Metrics[k]))
	}
	fmt.Fprintf(w, "test: %s\n", strings.Join(parts, "  "))
	fmt.Fprintln(w, "lineage:")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	runs := l.RunID
	if len(l.Runs) > 0 {
		runs += " (reproduced by " + strings.Join(l.Runs, ", ") + ")"
	}
	fmt.Fprintf(tw, "  run\t%s\n", runs)
	fmt.Fprintf(tw, "  dataset\t%s  %s\n", l.DatasetHash, l.DatasetPath)
	fmt.Fprintf(tw, "  config\t%s  seed %d\n", l.ConfigHash, l.Seed)
	fmt.Fprintf(tw, "  code\t%s\n", l.CodeVersion)
	fmt.Fprintf(tw, "  artifact\t%s  sha256 %s  %d bytes\n", l.Artifact, l.Artifact.SHA256, l.Artifact.Size)
	tw.Flush()
	fmt.Fprintln(w, "history:")
	if len(d.History) == 0 {
		fmt.Fprintln(w, "  (never promoted)")
	}
	printHistory(w, d.History, "  ")
	if d.OlderHistory {
		fmt.Fprintf(w, "  (the newest %d changes; models history %s --limit 0 shows all)\n", len(d.History), d.Model.Version)
	}
}

func printHistory(w io.Writer, h []registry.Event, indent string) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	if indent == "" {
		fmt.Fprintln(tw, "TIME\tNAME\tACTION\tVERSION\tSTAGE\tREPLACED\tREASON")
	}
	for _, e := range h {
		reason := e.Reason
		if e.Forced {
			reason = strings.TrimSpace("forced " + reason)
		}
		stage := string(e.Stage)
		if e.Alias != "" {
			stage = "@" + e.Alias
		}
		fmt.Fprintf(tw, "%s%s\t%s\t%s\t%s\t%s\t%s\t%s\n", indent, e.Time.UTC().Format("2006-01-02 15:04:05"), e.Name, e.Action, e.Version, stage, dash(e.Replaced), reason)
	}
	tw.Flush()
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func shortHash(h string) string {
	if len(h) > 12 {
		return h[:12]
	}
	return h
}
