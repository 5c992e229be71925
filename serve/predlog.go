package serve

import (
	"bufio"
	"encoding/json"
	"io"
	"sync"
	"time"
)

// logLine is one line of the prediction log: enough to join a prediction
// with the actual outcome later (continuous learning reads it).
type logLine struct {
	RequestID   string    `json:"request_id"`
	Time        time.Time `json:"time"`
	Model       string    `json:"model"`
	Version     string    `json:"version"`
	Variant     string    `json:"variant"`
	Shadow      bool      `json:"shadow,omitempty"`
	Rows        int       `json:"rows"`
	InputsHash  string    `json:"inputs_sha256"`
	Inputs      string    `json:"inputs_csv,omitempty"`
	Predictions any       `json:"predictions"`
}

// predLog writes prediction log lines on one goroutine, so request
// handlers never wait on the log's writer; a full queue drops lines and
// counts them in tabforge_prediction_log_dropped_total.
type predLog struct {
	lines chan logLine
	done  chan struct{}
	// mu guards closed: a handler the drain timeout cut off may still
	// write after close, which must drop its line, not send on a closed
	// channel.
	mu      sync.RWMutex
	closed  bool
	err     error
	metrics *metrics
}

func newPredLog(w io.Writer, m *metrics) *predLog {
	l := &predLog{lines: make(chan logLine, 4096), done: make(chan struct{}), metrics: m}
	go l.run(w)
	return l
}

func (l *predLog) run(w io.Writer) {
	defer close(l.done)
	bw := bufio.NewWriter(w)
	enc := json.NewEncoder(bw)
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		select {
		case line, ok := <-l.lines:
			if !ok {
				if err := bw.Flush(); err != nil && l.err == nil {
					l.err = err
				}
				return
			}
			if err := enc.Encode(line); err != nil && l.err == nil {
				l.err = err
			}
		case <-tick.C:
			if err := bw.Flush(); err != nil && l.err == nil {
				l.err = err
			}
		}
	}
}

// write queues the line of one prediction of c.
func (l *predLog) write(c *call, shadow bool, preds any, withInputs bool) {
	line := logLine{RequestID: c.id, Time: c.start.UTC(), Model: c.name, Version: c.v.m.Version, Variant: c.variant,
		Shadow: shadow, Rows: c.t.rows, InputsHash: inputsHash(c.t), Predictions: preds}
	if withInputs {
		line.Inputs = string(c.t.text())
	}
	l.mu.RLock()
	defer l.mu.RUnlock()
	if l.closed {
		l.metrics.logDropped.Inc()
		return
	}
	select {
	case l.lines <- line:
	default:
		l.metrics.logDropped.Inc()
	}
}

// close flushes the queued lines and returns the first write error.
// Lines written later are dropped (and counted).
func (l *predLog) close() error {
	l.mu.Lock()
	if !l.closed {
		l.closed = true
		close(l.lines)
	}
	l.mu.Unlock()
	<-l.done
	return l.err
}
