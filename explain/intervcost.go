package explain

import (
	"context"
	"fmt"
	"math"

	"github.com/tabforge/tabforge/model"
)

// InterventionalSHAP's cost model. A pair's time is not its trees' node
// count: a walk passes only the nodes where the two rows, or the sides
// its features took, lead (2–30% of them), each pass costs more in a
// model too large for the caches, a leaf adds one value per output to
// every path feature (a multiclass forest's leaves hold one per class),
// and a softmax member integrates its Jacobian over a number of panels
// that depends on how far the rows' margins part. InterventionalCost
// therefore counts that work on sample pairs and prices it with these
// constants, nanoseconds of CPU time fitted by least squares to
// single-goroutine runs on 2 shared cores under load (36 members: forests,
// extra trees, trees and gbdt of 5 to 1,100 trees, regression, binary and
// 3 to 11 classes, from synthetic data and the Vehicle, vowel, ames,
// credit_data and mlc_churn runs; logistic models of 2 to 11 classes on
// 10 and 80 features). Estimates fell within 0.73–1.24 of the measured
// time where the node count's (at 3.4e8 nodes a second) ranged over
// 0.29–6.9 of it.
const (
	costVisit         = 15.0  // a node passed, in a model of up to costCacheNodes nodes
	costVisitDoubling = 3.5   // more per node passed for each doubling of the model's nodes beyond costCacheNodes
	costCacheNodes    = 8192  // nodes a model's walks pass at costVisit
	costLeafValue     = 1.3   // a leaf value added to one path feature's value
	costPair          = 75.0  // a pair's fixed work: the link's secant, the rows' slices
	costPairValue     = 1.2   // per output and feature of a pair: clearing, mapping (a linear model's product)
	costSoftmaxPair   = 285.0 // a softmax pair's fixed work
	costQuadClass     = 13.5  // per quadrature node and class: the softmax's exponential
	costQuadClass2    = 0.3   // per quadrature node and pair of classes: the Jacobian's sum
	costApplyValue    = 1.7   // per output and feature of a softmax pair: the residual spread, the sums
	costApplyClass2   = 0.33  // per pair of classes and feature: the Jacobian times the margins' values
)

// InterventionalCost estimates the CPU time, in nanoseconds, that
// InterventionalSHAP takes to explain one row of m against bgRows
// background rows. It walks every pair of a row of x and a row of probe
// (a sample of the background) as InterventionalSHAP does, counting the
// nodes passed, the leaf values added and the softmax's quadrature
// panels, and prices the mean pair by the constants above: the count is
// deterministic, so the estimate depends on the rows and the model, not
// on the machine's load. It costs len(x)·len(probe) pair walks. Models
// InterventionalSupport refuses give its error.
func InterventionalCost(ctx context.Context, m model.Model, x, probe *model.Matrix, bgRows int) (float64, error) {
	rm, err := newRefModel(m)
	if err != nil {
		return 0, err
	}
	k, p := rm.outputs, rm.features
	if x == nil || x.Rows == 0 || x.Cols != p || len(x.Data) != x.Rows*x.Cols {
		return 0, fmt.Errorf("explain: interventional cost: rows need the model's %d features, have %d columns", p, colsOf(x))
	}
	if probe == nil || probe.Rows == 0 || probe.Cols != p || len(probe.Data) != probe.Rows*probe.Cols {
		return 0, fmt.Errorf("explain: interventional cost: background rows need the model's %d features", p)
	}
	mx, mr := make([]float64, x.Rows*k), make([]float64, probe.Rows*k)
	if err := rm.margins(mx, x); err != nil {
		return 0, err
	}
	if err := rm.margins(mr, probe); err != nil {
		return 0, fmt.Errorf("background: %w", err)
	}
	w, panels := newRefWorker(rm), 0
	for r := range x.Rows {
		if err := ctx.Err(); err != nil {
			return 0, fmt.Errorf("explain: interventional cost: %w", err)
		}
		for b := range probe.Rows {
			w.pair(rm, x.Row(r), probe.Row(b))
			if rm.link.kind == linkSoftmax {
				panels += quadPanels(mx[r*k:(r+1)*k], mr[b*k:(b+1)*k])
			}
		}
	}
	pairs := float64(x.Rows * probe.Rows)
	kp := float64(k * p)
	c := rm.visitCost()*float64(w.visits) + costLeafValue*float64(w.leafValues) + (costPair+costPairValue*kp)*pairs
	if rm.link.kind == linkSoftmax {
		kk := float64(k * k)
		c += float64(panels*gaussNodes)*(costQuadClass*float64(k)+costQuadClass2*kk) +
			(costSoftmaxPair+costApplyValue*kp+costApplyClass2*kk*float64(p))*pairs
	}
	return c / pairs * float64(bgRows), nil
}

// probeRows is how many rows of the data, and of the background,
// ProbeCost walks in pairs.
const probeRows = 8

// ProbeCost estimates the CPU nanoseconds InterventionalSHAP takes on one
// row of x against the rows of bg: InterventionalCost on samples of up
// to probeRows rows of each drawn with seed (SampleRows), priced for
// bg.Rows background rows (0 when either has none). It costs at most 64 pair walks, a small share
// of explaining even one row against 100 background rows; it weighs an
// ensemble's members for progress (MemberProgress) as the report's
// budget weighs them, by the work their walks do rather than by the
// nodes their trees have.
func ProbeCost(ctx context.Context, m model.Model, x, bg *model.Matrix, seed uint64) (float64, error) {
	if x == nil || bg == nil || x.Rows == 0 || bg.Rows == 0 {
		return 0, nil // no rows, no work
	}
	xs := x.TakeRows(SampleRows(x.Rows, probeRows, seed))
	bs := bg.TakeRows(SampleRows(bg.Rows, probeRows, seed))
	return InterventionalCost(ctx, m, xs, bs, bg.Rows)
}

// visitCost is the price of a node a pair walk of rm passes: costVisit,
// and costVisitDoubling more per doubling of rm's nodes beyond
// costCacheNodes.
func (rm *refModel) visitCost() float64 {
	if rm.trees == nil {
		return 0
	}
	n := 0
	for i := range rm.trees.trees {
		n += len(rm.trees.trees[i].left)
	}
	return costVisit + costVisitDoubling*math.Log2(max(1, float64(n)/costCacheNodes))
}
