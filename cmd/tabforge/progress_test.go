package main

import (
	"fmt"
	"log/slog"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vbauerster/mpb/v8"

	"github.com/tabforge/tabforge/internal/syncbuf"
	"github.com/tabforge/tabforge/progress"
)

// syncBuffer is safe for the renderer and the loggers writing at once,
// as a terminal is, and for child processes' output read by the tests.
type syncBuffer = syncbuf.Buffer

var csi = regexp.MustCompile(`^\x1b\[(\d*)([A-Za-z])`)

// screen replays what a terminal shows for out: text, newlines, carriage
// returns, cursor up (ESC[nA) and erase below (ESC[J), the escapes mpb
// draws with; other escapes are dropped. It returns the final lines.
func screen(out string) []string {
	lines := []string{""}
	row := 0
	for len(out) > 0 {
		if m := csi.FindStringSubmatch(out); m != nil {
			out = out[len(m[0]):]
			switch m[2] {
			case "A":
				n, _ := strconv.Atoi(m[1])
				row = max(0, row-max(n, 1))
			case "J":
				lines = append(lines[:row], "")
			}
			continue
		}
		c := out[0]
		out = out[1:]
		switch c {
		case '\n':
			row++
			if row == len(lines) {
				lines = append(lines, "")
			}
		case '\r':
			lines[row] = ""
		default:
			lines[row] += string(c)
		}
	}
	if lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	return lines
}

var logLine = regexp.MustCompile(`^time=\S+ level=INFO msg=step worker=(\d+) i=(\d+)$`)

// checkScreen reports what is wrong with a final screen that should hold
// every worker's lines whole and in order, followed only by the bars'
// last frame (bars lines, each showing a finished bar).
func checkScreen(lines []string, workers, each, bars int) []string {
	var problems []string
	next := make([]int, workers)
	logs := 0
	for i, l := range lines {
		m := logLine.FindStringSubmatch(l)
		if m == nil {
			if i < len(lines)-bars {
				problems = append(problems, fmt.Sprintf("line %d is not a whole log line above the bars: %q", i, l))
			} else if !strings.Contains(l, fmt.Sprintf("%d/%d", each, each)) {
				problems = append(problems, fmt.Sprintf("line %d is not a finished bar: %q", i, l))
			}
			continue
		}
		w, _ := strconv.Atoi(m[1])
		n, _ := strconv.Atoi(m[2])
		if w >= workers || n != next[w] {
			problems = append(problems, fmt.Sprintf("line %d: worker %d line %d out of order (want %d)", i, w, n, next[w]))
			continue
		}
		next[w]++
		logs++
	}
	if logs != workers*each {
		problems = append(problems, fmt.Sprintf("%d whole log lines on screen, want %d", logs, workers*each))
	}
	return problems
}

// TestScreenCatchesOverdrawnLog shows checkScreen fails on the defect it
// guards against: a log line written straight to the terminal between two
// frames is erased by the next frame, which leaves the old bar stale.
func TestScreenCatchesOverdrawnLog(t *testing.T) {
	out := "train 1/2\n" +
		"time=x level=INFO msg=step worker=0 i=0\n" +
		"\x1b[1A\x1b[J" + "train 2/2\n"
	if problems := checkScreen(screen(out), 1, 2, 1); len(problems) == 0 {
		t.Fatalf("checkScreen(%q) found nothing wrong", screen(out))
	}
}

// TestLogsAboveBars logs from several goroutines while bars redraw every
// millisecond on a buffer (no terminal: mpb is forced to draw as on one),
// then replays the bytes as a terminal would: every log line must be on
// the final screen whole, in each worker's order, above only the bars'
// last frame.
func TestLogsAboveBars(t *testing.T) {
	const workers, each = 4, 60
	for _, format := range []string{"text", "json"} {
		t.Run(format, func(t *testing.T) {
			out := &syncBuffer{}
			sink := &logSink{out: out}
			bars := startBars(out, sink, mpb.ForceTTY(), mpb.WithRefreshRate(time.Millisecond))
			var h slog.Handler = slog.NewTextHandler(sink, nil)
			if format == "json" {
				h = slog.NewJSONHandler(sink, nil)
			}
			log := slog.New(h)
			var wg sync.WaitGroup
			var mu sync.Mutex // progress events come from one goroutine at a time in the pipeline
			for w := range workers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := range each {
						log.Info("step", "worker", w, "i", i)
						mu.Lock()
						bars.event(progress.Event{Stage: progress.Stage(fmt.Sprintf("stage%d", w)), Step: i + 1, Total: each})
						mu.Unlock()
						if i%10 == 0 {
							time.Sleep(time.Millisecond)
						}
					}
				}()
			}
			wg.Wait()
			bars.wait()
			log.Info("step", "worker", workers, "i", 0) // after the bars: plain output
			lines := screen(out.String())
			if format == "json" {
				lines = jsonToText(t, lines)
			}
			// The last line is the one logged after the bars.
			last := lines[len(lines)-1]
			if m := logLine.FindStringSubmatch(last); m == nil || m[1] != strconv.Itoa(workers) {
				t.Fatalf("last line %q, want the line logged after the bars", last)
			}
			for _, p := range checkScreen(lines[:len(lines)-1], workers, each, workers) {
				t.Error(p)
			}
		})
	}
}

var jsonLog = regexp.MustCompile(`^\{"time":"[^"]+","level":"INFO","msg":"step","worker":(\d+),"i":(\d+)\}$`)

// jsonToText rewrites whole JSON log lines in the text form checkScreen
// reads, leaving any other line as it is.
func jsonToText(t *testing.T, lines []string) []string {
	t.Helper()
	out := make([]string, len(lines))
	for i, l := range lines {
		if m := jsonLog.FindStringSubmatch(l); m != nil {
			l = fmt.Sprintf("time=t level=INFO msg=step worker=%s i=%s", m[1], m[2])
		}
		out[i] = l
	}
	return out
}

// TestLogSinkWithoutBars: without a terminal there are no bars and the
// log handler writes to stderr directly.
func TestLogSinkWithoutBars(t *testing.T) {
	var out syncBuffer
	sink := &logSink{out: &out}
	bars := newProgress(&out, sink)
	slog.New(slog.NewTextHandler(sink, nil)).Info("step", "worker", 0, "i", 0)
	bars.event(progress.Event{Stage: "train", Step: 1, Total: 2})
	bars.wait()
	got := screen(out.String())
	if len(got) != 1 || !logLine.MatchString(got[0]) {
		t.Fatalf("output %q, want one log line and no bar", got)
	}
}

// TestLogEventStepOnce: without a terminal, explain logs each Step of a
// stage once. An ensemble's members count rows by their cost, so the
// rows of the cheap last member all round to Total: every one of them
// logged "done=3000 total=3000" again.
func TestLogEventStepOnce(t *testing.T) {
	var out syncBuffer
	bars := newProgressLogged(&out, nil, slog.New(slog.NewTextHandler(&out, nil)), 0)
	for _, step := range []int{0, 0, 2, 3, 3, 4, 4, 4} {
		bars.event(progress.Event{Stage: progress.ExplainRow, Name: "interventional", Step: step, Total: 4})
	}
	bars.wait()
	var steps []string
	for _, l := range strings.Split(strings.TrimSpace(out.String()), "\n") {
		for _, f := range strings.Fields(l) {
			if v, ok := strings.CutPrefix(f, "done="); ok {
				steps = append(steps, v)
			}
		}
	}
	if got := strings.Join(steps, ","); got != "0,2,3,4" {
		t.Errorf("logged steps %s; want 0,2,3,4 (each once)\n%s", got, out.String())
	}
}
