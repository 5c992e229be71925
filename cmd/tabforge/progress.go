package main

import (
	"io"
	"os"

	"github.com/vbauerster/mpb/v8"
	"github.com/vbauerster/mpb/v8/decor"

	"github.com/tabforge/tabforge/progress"
)

// progressBars renders library progress events as mpb bars, one per
// stage, when stderr is a terminal; otherwise it drops them (the logs
// already say what happened).
type progressBars struct {
	p    *mpb.Progress
	bars map[progress.Stage]*mpb.Bar
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
	return &progressBars{p: mpb.New(mpb.WithOutput(stderr), mpb.WithWidth(40)), bars: map[progress.Stage]*mpb.Bar{}}
}

// event is a progress.Func.
func (b *progressBars) event(e progress.Event) {
	if b.p == nil || e.Total <= 0 {
		return
	}
	bar, ok := b.bars[e.Stage]
	if !ok {
		bar = b.p.AddBar(int64(e.Total),
			mpb.PrependDecorators(decor.Name(string(e.Stage), decor.WC{W: 12, C: decor.DindentRight}), decor.CountersNoUnit("%d/%d")),
			mpb.AppendDecorators(decor.Name(" "), decor.Elapsed(decor.ET_STYLE_GO), decor.Name(" "), decor.Any(func(decor.Statistics) string { return e.Name })),
		)
		b.bars[e.Stage] = bar
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
