package ui

import (
	"encoding/json"
	"fmt"
	"mime"
	"net/http"
	"os"
	"path/filepath"

	"github.com/tabforge/tabforge/config"
	"github.com/tabforge/tabforge/pipeline"
	"github.com/tabforge/tabforge/store"
)

// configRow is one key of a run's config, with the profile's default
// when the run's value differs from it.
type configRow struct {
	Key, Value string
	Default    string // the profile's value ("(unset)" if it has none)
	Changed    bool
}

// configRows lines up a run's config against its profile's defaults
// (config.Default with the profile applied, before any file, environment
// or flag). Without a recorded profile nothing is marked changed.
func configRows(run *store.Run) (rows []configRow, changed int, err error) {
	flat := flatConfig(run.Config)
	var base map[string]string
	if run.Profile != "" {
		_, prov, err := config.Load(config.Sources{Profile: run.Profile})
		if err != nil {
			return nil, 0, fmt.Errorf("profile %q: %w", run.Profile, err)
		}
		b, err := json.Marshal(prov.Base())
		if err != nil {
			return nil, 0, err
		}
		base = flatConfig(b)
	}
	for _, k := range sortedKeys(flat) {
		r := configRow{Key: k, Value: flat[k]}
		if base != nil {
			def, ok := base[k]
			if !ok {
				def = "(unset)"
			}
			if r.Changed = def != r.Value; r.Changed {
				r.Default = def
				changed++
			}
		}
		rows = append(rows, r)
	}
	return rows, changed, nil
}

// download is one of a run's files offered for download.
type download struct {
	Kind, Name string
	Size       int64
}

// downloadKinds maps a download's kind to the run's file and its type.
func downloadFile(run *store.Run, res *pipeline.Result, kind string) (path, ctype string) {
	switch kind {
	case "model":
		p := run.ModelPath
		if p == "" && res != nil {
			p = res.ModelPath
		}
		return p, "application/octet-stream"
	case "report":
		if res != nil {
			return res.Report, "text/html; charset=utf-8"
		}
	case "report-data":
		if res != nil && res.Report != "" {
			return filepath.Join(filepath.Dir(res.Report), "report.json"), "application/json"
		}
	}
	return "", ""
}

// downloads lists the run's files that exist on this machine.
func downloads(run *store.Run, res *pipeline.Result) []download {
	var out []download
	for _, k := range []string{"model", "report", "report-data"} {
		p, _ := downloadFile(run, res, k)
		if p == "" {
			continue
		}
		if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() {
			out = append(out, download{Kind: k, Name: filepath.Base(p), Size: st.Size()})
		}
	}
	return out
}

// download serves GET /runs/{id}/download/{kind} (model, report,
// report-data): the file the run recorded, as an attachment named after
// the run. Read-only: the path comes from the run record, never from
// the request.
func (s *Server) download(w http.ResponseWriter, r *http.Request) {
	run, err := s.st.GetRun(r.Context(), r.PathValue("id"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	res, _ := decodeResult(run)
	path, ctype := downloadFile(run, res, r.PathValue("kind"))
	if path == "" {
		s.fail(w, r, &httpError{http.StatusNotFound, fmt.Errorf("run %s has no %q file", run.ID, r.PathValue("kind"))})
		return
	}
	f, err := os.Open(path)
	if err != nil {
		s.fail(w, r, &httpError{http.StatusNotFound, fmt.Errorf("run %s: %s is not on this machine: %w", run.ID, r.PathValue("kind"), err)})
		return
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil || !st.Mode().IsRegular() {
		s.fail(w, r, &httpError{http.StatusNotFound, fmt.Errorf("run %s: %s is not a file", run.ID, r.PathValue("kind"))})
		return
	}
	h := w.Header()
	h.Set("Content-Type", ctype)
	h.Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": run.ID + "-" + filepath.Base(path)}))
	http.ServeContent(w, r, "", st.ModTime(), f)
}
