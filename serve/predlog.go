package serve

import (
	"bufio"
	"encoding/json"
	"fmt"
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
	// reopen asks the writing goroutine to flush and reopen its writer
	// (see Server.ReopenLog); it answers on the channel sent.
	reopen chan chan error
	done   chan struct{}
	// mu guards closed: a handler the drain timeout cut off may still
	// write after close, which must drop its line, not send on a closed
	// channel.
	mu      sync.RWMutex
	closed  bool
	err     error
	metrics *metrics
}

func newPredLog(w io.Writer, m *metrics) *predLog {
	l := &predLog{lines: make(chan logLine, 4096), reopen: make(chan chan error), done: make(chan struct{}), metrics: m}
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
			l.encode(enc, line)
		case reply := <-l.reopen:
			// select picks among ready cases at random: write the lines
			// queued before the reopen was asked for into the old file.
			l.drainQueued(enc)
			reply <- reopenWriter(w, bw)
		case <-tick.C:
			if err := bw.Flush(); err != nil && l.err == nil {
				l.err = err
			}
		}
	}
}

// drainQueued encodes the lines waiting in the queue now, without
// waiting for more.
func (l *predLog) drainQueued(enc *json.Encoder) {
	for range len(l.lines) {
		line, ok := <-l.lines
		if !ok {
			return
		}
		l.encode(enc, line)
	}
}

// encode writes line, keeping the first write error.
func (l *predLog) encode(enc *json.Encoder, line logLine) {
	if err := enc.Encode(line); err != nil && l.err == nil {
		l.err = err
	}
}

// A reopener is a log writer that can open its file again under its
// name (see LogFile).
type reopener interface{ Reopen() error }

// reopenWriter writes out the buffered lines, which belong to the file
// open until now (renamed away, when rotated), then reopens w if it can.
// Lines are whole in bw between two encodes, so every line lands whole
// in exactly one of the two files.
func reopenWriter(w io.Writer, bw *bufio.Writer) error {
	ferr := bw.Flush()
	if r, ok := w.(reopener); ok {
		if err := r.Reopen(); err != nil {
			return err
		}
	}
	if ferr != nil {
		// A failed bufio.Writer refuses every later line; reset, the log
		// goes on in the new file (a full disk rotated away, say).
		bw.Reset(w)
		return fmt.Errorf("lines buffered for the old file lost: %w", ferr)
	}
	return nil
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

// reopenLog has the writing goroutine flush and reopen its writer; it
// fails with ErrClosed once the log is closed.
func (l *predLog) reopenLog() error {
	// Held until answered, so that close waits for the exchange instead
	// of ending the goroutine that answers.
	l.mu.RLock()
	defer l.mu.RUnlock()
	if l.closed {
		return ErrClosed
	}
	reply := make(chan error, 1)
	l.reopen <- reply
	return <-reply
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
