package gbdt

import (
	"fmt"
	"runtime"

	"github.com/tabforge/tabforge/internal/par"
	"github.com/tabforge/tabforge/model"
)

// linkBlock is the row block of Predict's link step.
const linkBlock = 4096

// predBlockRows returns the rows per block of raw prediction: all trees
// are applied to one block, converted once to float32, before the next;
// a block holds about 16k values (64 KB) so it stays in L1/L2.
func predBlockRows(p int) int { return max(4, min(1024, 16384/max(1, p))/4*4) }

// Predict writes NumOutputs() predictions per row of x into dst: the value
// for regression, the probability of class 1 for binary, class
// probabilities for multiclass. dst must have length x.Rows·NumOutputs().
// Rows are processed in parallel blocks on GOMAXPROCS goroutines; x is not
// modified. A value is compared as float32, like XGBoost does; NaN means
// missing.
func (m *Model) Predict(dst []float64, x *model.Matrix) error {
	if err := m.checkInput(dst, x, m.obj.outputs()); err != nil {
		return err
	}
	k := m.obj.groups()
	m.predictRaw(dst, x, runtime.GOMAXPROCS(0))
	switch m.cfg.objective {
	case BinaryLogistic, MultiSoftmax: // the other objectives' link is the identity
		par.Tasks(runtime.GOMAXPROCS(0), blocks(x.Rows, linkBlock), func(t int) {
			for r := t * linkBlock; r < min((t+1)*linkBlock, x.Rows); r++ {
				m.obj.transform(dst[r*k:(r+1)*k], dst[r*k:(r+1)*k])
			}
		})
	}
	return nil
}

// PredictRaw writes the margins (before the link function: log-odds for
// binary, one per class for multiclass) of every row of x into dst, which
// must have length x.Rows·NumGroups().
func (m *Model) PredictRaw(dst []float64, x *model.Matrix) error {
	if err := m.checkInput(dst, x, m.obj.groups()); err != nil {
		return err
	}
	m.predictRaw(dst, x, runtime.GOMAXPROCS(0))
	return nil
}

func (m *Model) checkInput(dst []float64, x *model.Matrix, per int) error {
	switch {
	case x == nil:
		return fmt.Errorf("gbdt: predict: nil matrix")
	case x.Cols != m.numFeature:
		return fmt.Errorf("%w: matrix has %d columns, the model was fitted on %d", ErrSchema, x.Cols, m.numFeature)
	case len(x.Data) != x.Rows*x.Cols:
		return fmt.Errorf("gbdt: predict: matrix data has %d values, want %d×%d", len(x.Data), x.Rows, x.Cols)
	case len(dst) != x.Rows*per:
		return fmt.Errorf("gbdt: predict: dst has length %d, want %d rows × %d", len(dst), x.Rows, per)
	}
	return nil
}

// predictRaw computes margins without checks.
func (m *Model) predictRaw(dst []float64, x *model.Matrix, workers int) {
	k, p, n := m.obj.groups(), x.Cols, x.Rows
	br := predBlockRows(p)
	nb := blocks(n, br)
	workers = min(workers, nb)
	var next atomicCounter
	runWorkers(workers, func(int) {
		var blk rowBlock
		var score func(dst []float64, k int, b *rowBlock)
		if m.scorer != nil {
			score = m.scorer.worker()
		}
		for {
			t := next.next()
			if t >= nb {
				return
			}
			lo, hi := t*br, min((t+1)*br, n)
			for r := lo; r < hi; r++ {
				copy(dst[r*k:(r+1)*k], m.baseMargin)
			}
			blk.fill(x.Data[lo*p:hi*p], hi-lo, p)
			out := dst[lo*k : hi*k]
			if score != nil {
				score(out, k, &blk)
				continue
			}
			for ti := range m.packed {
				m.packed[ti].addTo(out, k, m.treeClass[ti], &blk)
			}
		}
	})
}
