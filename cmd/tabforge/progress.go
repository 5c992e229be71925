package main

import (
	"io"
	"os"
	"strconv"
	"sync"

	"github.com/vbauerster/mpb/v8"
	"github.com/vbauerster/mpb/v8/decor"

	"github.com/tabforge/tabforge/progress"
)

// progressBars renders library progress events as mpb bars, one per
// stage — and one per study for tuning trials, showing trials done of the
// budget and the best value so far — when stderr is a terminal; otherwise
// it drops them (the logs already say what happened).
type progressBars struct {
	p    *mpb.Progress
	mu   sync.Mutex // guards note, read by the render goroutine
	bars map[string]*mpb.Bar
	note map[string]string
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

func newProgress(stderr io.Writer) *progressBars {
	if !isTerminal(stderr) {
		return &progressBars{}
	}
	return &progressBars{p: mpb.New(mpb.WithOutput(stderr), mpb.WithWidth(40)), bars: map[string]*mpb.Bar{}, note: map[string]string{}}
}

// event is a progress.Func.
func (b *progressBars) event(e progress.Event) {
	if b.p == nil || e.Total <= 0 {
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

// wait completes the bars and waits for the renderer to finish.
func (b *progressBars) wait() {
	if b.p == nil {
		return
	}
	for _, bar := range b.bars {
		bar.SetTotal(-1, true)
	}
	b.p.Wait()
}
