package ui

import (
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/tabforge/tabforge/store"
)

// progressEvery is how often the progress stream polls the store; the
// store is the only channel between a training process and the
// dashboard, so this works across processes and machines.
const progressEvery = time.Second

// progress is one running run's line in the stream.
type progress struct {
	ID      string  `json:"id"`
	Seconds float64 `json:"seconds"`
	Status  string  `json:"status"`
}

// events serves /events, a Server-Sent Events stream: every second, the
// runs recorded as running (event "running"); the runs page updates
// their durations and reloads when the set changes.
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
		p, err := store.QueryRuns(r.Context(), s.st, store.RunQuery{Status: store.Running, Limit: 100})
		if err != nil {
			return
		}
		now := time.Now()
		out := make([]progress, 0, len(p.Rows))
		for _, row := range p.Rows {
			out = append(out, progress{ID: row.ID, Seconds: now.Sub(row.Created).Seconds(), Status: string(row.Status)})
		}
		b, _ := json.Marshal(out)
		if _, err := fmt.Fprintf(w, "event: running\ndata: %s\n\n", b); err != nil {
			return
		}
		fl.Flush()
		select {
		case <-r.Context().Done():
			return
		case <-tick.C:
		}
	}
}
