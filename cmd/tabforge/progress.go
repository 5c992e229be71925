package main

import (
	"errors"
	"io"
	"log/slog"
	"os"
	"strconv"
	"sync"
	"time"

	"github.com/vbauerster/mpb/v8"
	"github.com/vbauerster/mpb/v8/decor"

	"github.com/tabforge/tabforge/progress"
)

// progressBars renders library progress events as mpb bars, one per
// stage — and one per study for tuning trials, showing trials done of the
// budget and the best value so far — when stderr is a terminal; otherwise
// it drops them (the logs already say what happened). While the bars are
// live, the log lines go through the container (see logSink) so that they
// print whole above the bars.
type progressBars struct {
	p    *mpb.Progress
	sink *logSink
	mu   sync.Mutex // guards note, read by the render goroutine, and logged
	bars map[string]*mpb.Bar
	note map[string]string
	// Without bars, log (if set) gets a line per stage at most every
	// logEvery (see logEvent).
	log      *slog.Logger
	logEvery time.Duration
	logged   map[string]loggedStage
}

// loggedStage is when a stage's first and latest lines were logged, and
// the Step of the latest.
type loggedStage struct {
	start, last time.Time
	step        int
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// newProgress starts bars on stderr if it is a terminal, routing sink
// (the log handler's writer) through them until wait; otherwise it
// returns bars that drop every event and leaves sink on plain stderr.
func newProgress(stderr io.Writer, sink *logSink) *progressBars {
	if !isTerminal(stderr) {
		return &progressBars{}
	}
	return startBars(stderr, sink)
}

// newProgressLogged is newProgress for a command whose log is otherwise
// silent while it works (explain): when stderr is not a terminal, events
// are logged to log at most every logEvery per stage, so a long run
// redirected to a file still shows that it moves and how long it has
// left.
func newProgressLogged(stderr io.Writer, sink *logSink, log *slog.Logger, logEvery time.Duration) *progressBars {
	if isTerminal(stderr) {
		return startBars(stderr, sink)
	}
	return &progressBars{log: log, logEvery: logEvery, logged: map[string]loggedStage{}}
}

// logEvent logs e if it is its stage's first or last event, or logEvery
// has passed since the stage's last line, with the time spent since the
// first and the time left at that pace. A Step already logged is not
// logged again: events may repeat a Step (an ensemble's members count
// rows by their cost, so a cheap member's rows round to the same Step,
// the last ones all to Total), and each repeat of the last Step printed
// another line "done=3000 total=3000".
func (b *progressBars) logEvent(e progress.Event) {
	b.mu.Lock()
	defer b.mu.Unlock()
	key, now := string(e.Stage)+"/"+e.Name, time.Now()
	st, seen := b.logged[key]
	if seen && (e.Step == st.step || e.Step < e.Total && now.Sub(st.last) < b.logEvery) {
		return
	}
	if !seen {
		st.start = now
	}
	st.last, st.step = now, e.Step
	b.logged[key] = st
	elapsed := now.Sub(st.start)
	args := []any{"stage", e.Stage, "name", e.Name, "done", e.Step, "total", e.Total, "elapsed", elapsed.Round(time.Second).String()}
	if e.Step > 0 && e.Step < e.Total {
		left := time.Duration(float64(elapsed) / float64(e.Step) * float64(e.Total-e.Step))
		args = append(args, "left", left.Round(time.Second).String())
	}
	b.log.Info("progress", args...)
}

// startBars starts the bars on w whatever w is; opts add container
// options (tests force a terminal on a buffer). Auto refresh is on even if
// mpb does not see a terminal: without frames, the log lines handed to
// the container would never be written.
func startBars(w io.Writer, sink *logSink, opts ...mpb.ContainerOption) *progressBars {
	stopped := make(chan any)
	opts = append([]mpb.ContainerOption{mpb.WithOutput(w), mpb.WithWidth(40), mpb.WithAutoRefresh(), mpb.WithShutdownNotifier(stopped)}, opts...)
	b := &progressBars{p: mpb.New(opts...), sink: sink, bars: map[string]*mpb.Bar{}, note: map[string]string{}}
	if sink != nil {
		sink.attach(b.p, stopped)
	}
	return b
}

// event is a progress.Func.
func (b *progressBars) event(e progress.Event) {
	if e.Total <= 0 {
		return
	}
	if b.p == nil {
		if b.log != nil {
			b.logEvent(e)
		}
		return
	}
	key, label := string(e.Stage), string(e.Stage)
	note := e.Name
	if e.Stage == progress.TuneTrial {
		key, label = key+"/"+e.Name, "tune "+e.Name
		note = ""
		if v, ok := e.Metrics["best"]; ok {
			note = "best " + strconv.FormatFloat(v, 'g', 5, 64)
		}
	}
	b.mu.Lock()
	b.note[key] = note
	b.mu.Unlock()
	bar, ok := b.bars[key]
	if !ok {
		bar = b.p.AddBar(int64(e.Total),
			mpb.PrependDecorators(decor.Name(label, decor.WC{W: 14, C: decor.DindentRight}), decor.CountersNoUnit("%d/%d")),
			mpb.AppendDecorators(decor.Name(" "), decor.Elapsed(decor.ET_STYLE_GO), decor.Name(" "), decor.Any(func(decor.Statistics) string {
				b.mu.Lock()
				defer b.mu.Unlock()
				return b.note[key]
			})),
		)
		b.bars[key] = bar
	}
	bar.SetTotal(int64(e.Total), false)
	bar.SetCurrent(int64(e.Step))
}

// wait completes the bars, waits for the renderer to draw the last frame
// and returns the log lines to plain stderr.
func (b *progressBars) wait() {
	if b.p == nil {
		return
	}
	if b.sink != nil {
		// Lines already handed to the container are drawn with the
		// final frame; later ones wait for it.
		b.sink.drain()
	}
	for _, bar := range b.bars {
		bar.SetTotal(-1, true)
	}
	b.p.Wait()
	if b.sink != nil {
		b.sink.detach()
	}
}

// logSink is the writer of the CLI's log handler. Without live bars it
// writes to out (stderr). With bars it hands each write, one whole log
// line (slog writes a record in one call), to the mpb container, which
// prints it above the bars at its next frame: a line written straight to
// the terminal would be overdrawn by that frame, leaving a stale bar above
// it instead.
type logSink struct {
	out io.Writer

	// mu is held for reading while a line is handed to bars, so that
	// drain returns only when every such line is in the container.
	mu   sync.RWMutex
	bars *mpb.Progress // nil without live bars
	// stopped is closed when the container has drawn its last frame;
	// nil when no container is running.
	stopped <-chan any
}

func (s *logSink) attach(p *mpb.Progress, stopped <-chan any) {
	s.mu.Lock()
	s.bars, s.stopped = p, stopped
	s.mu.Unlock()
}

// drain stops handing lines to the container: from now on they wait for
// its last frame and go to out.
func (s *logSink) drain() {
	s.mu.Lock()
	s.bars = nil
	s.mu.Unlock()
}

func (s *logSink) detach() {
	s.mu.Lock()
	s.bars, s.stopped = nil, nil
	s.mu.Unlock()
}

// Write implements io.Writer.
func (s *logSink) Write(b []byte) (int, error) {
	s.mu.RLock()
	p, stopped := s.bars, s.stopped
	if p != nil {
		n, err := p.Write(b)
		s.mu.RUnlock()
		var done mpb.ErrDone[*mpb.Progress]
		if !errors.As(err, &done) {
			return n, err
		}
	} else {
		s.mu.RUnlock()
	}
	if stopped != nil {
		<-stopped
	}
	return s.out.Write(b)
}
