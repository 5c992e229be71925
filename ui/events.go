package ui

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"time"

	"github.com/tabforge/tabforge/pipeline"
	"github.com/tabforge/tabforge/store"
	"github.com/tabforge/tabforge/tune"
)

// progressEvery is how often the progress stream polls the store; the
// store is the only channel between a training process and the
// dashboard, so this works across processes and machines.
const progressEvery = time.Second

// runProgress is one running run's line in the stream: how long it has
// run, the stage it is in (pipeline.StageKind) and its tuning so far
// (the trials of its studies, pipeline.RunStudyPrefix).
type runProgress struct {
	ID      string   `json:"id"`
	Seconds float64  `json:"seconds"`
	Status  string   `json:"status"`
	Stage   string   `json:"stage,omitempty"`
	Step    int      `json:"step"`
	Total   int      `json:"total"`
	Trials  int      `json:"trials"`
	Budget  int      `json:"budget,omitempty"` // max_evals per tuned model, when tuning is on
	Best    *float64 `json:"best,omitempty"`
}

// events serves /events, a Server-Sent Events stream: every second, the
// runs recorded as running (event "running"); the runs page updates
// their durations and progress and reloads when the set changes. It
// ends with the request or at EndStreams.
func (s *Server) events(w http.ResponseWriter, r *http.Request) {
	fl, ok := w.(http.Flusher)
	if !ok {
		s.fail(w, r, fmt.Errorf("streaming unsupported"))
		return
	}
	// A stream outlives a server's write timeout (tabforge serve --ui
	// has one): lift it for this response. Where it cannot be lifted the
	// browser's EventSource reconnects.
	_ = http.NewResponseController(w).SetWriteDeadline(time.Time{})
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	tick := time.NewTicker(progressEvery)
	defer tick.Stop()
	for {
		out, err := s.running(r.Context())
		if err != nil {
			return
		}
		b, err := json.Marshal(out)
		if err != nil {
			s.o.Log.Error("ui progress event", "err", err)
			return
		}
		if _, err := fmt.Fprintf(w, "event: running\ndata: %s\n\n", b); err != nil {
			return
		}
		fl.Flush()
		select {
		case <-r.Context().Done():
			return
		case <-s.ending:
			return
		case <-tick.C:
		}
	}
}

// running reads the progress of up to 100 running runs.
func (s *Server) running(ctx context.Context) ([]runProgress, error) {
	p, err := store.QueryRuns(ctx, s.st, store.RunQuery{Status: store.Running, Limit: 100})
	if err != nil {
		return nil, err
	}
	now := time.Now()
	out := make([]runProgress, 0, len(p.Rows))
	for _, row := range p.Rows {
		pr := runProgress{ID: row.ID, Seconds: now.Sub(row.Created).Seconds(), Status: string(row.Status)}
		if rec, err := s.st.GetRecord(ctx, pipeline.StageKind, row.ID); err == nil {
			var n pipeline.StageNote
			if json.Unmarshal(rec.Value, &n) == nil {
				pr.Stage, pr.Step, pr.Total = n.Stage, n.Step, n.Total
			}
		}
		if run, err := s.st.GetRun(ctx, row.ID); err == nil {
			s.tuning(ctx, run, &pr)
		}
		out = append(out, pr)
	}
	return out, nil
}

// tuning fills pr's trials and best value so far from the run's studies.
func (s *Server) tuning(ctx context.Context, run *store.Run, pr *runProgress) {
	var cfg struct {
		Tuning   bool `json:"enable_hyperparameter_tuning"`
		MaxEvals int  `json:"max_evals"`
	}
	if json.Unmarshal(run.Config, &cfg) == nil && cfg.Tuning {
		pr.Budget = cfg.MaxEvals
	}
	studies, err := pipeline.Studies(ctx, s.st, pipeline.RunStudyPrefix(run))
	if err != nil {
		return
	}
	for _, st := range studies {
		pr.Trials += st.Trials
		if st.Best == nil {
			continue
		}
		if pr.Best == nil || (st.Direction == tune.Maximize && *st.Best > *pr.Best) || (st.Direction != tune.Maximize && *st.Best < *pr.Best) {
			v := *st.Best
			pr.Best = &v
		}
	}
	// JSON holds no ±Inf (a study whose only trials diverged): no best
	// then, rather than an event that cannot be encoded.
	if pr.Best != nil && math.IsInf(*pr.Best, 0) {
		pr.Best = nil
	}
}
