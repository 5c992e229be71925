// Package gbdt trains and applies histogram gradient-boosted decision trees
// in the XGBoost and LightGBM tradition, natively in Go.
//
// Training bins every feature once into at most max_bin quantile bins
// (uint8 codes stored feature-major, plus one bin for missing values),
// then boosts: each round computes per-row gradients and hessians of the
// objective, grows one tree per output (one per class for multiclass) from
// per-node gradient histograms, and adds the shrunken leaf values to the
// scores. Histograms are built for the smaller child of each split only;
// the larger child's is the parent's minus the smaller's. On amd64 the
// histogram loops are SSE2 assembly that adds a row's gradient pair to its
// bin as one pair of float64, with the same sums as the Go loops that the
// purego build tag and other architectures use. A split's gain is
// XGBoost's
//
//	T(G_L)²/(H_L+λ) + T(G_R)²/(H_R+λ) − T(G)²/(H+λ),  T(g) = sign(g)·max(|g|−α, 0)
//
// with min_child_weight on hessian sums and gamma as the minimum gain; leaf
// values are −T(G)/(H+λ) times the learning rate. Missing values (NaN) go
// to a default direction learned per split, as in XGBoost. Trees grow
// depth-wise (max_depth) or loss-guided (best leaf first, max_leaves).
// Categorical columns are split on their ordinal codes, or, with
// Params.CategoricalSplits, by category sets (LightGBM-style).
//
// Split thresholds are raw feature values stored as float32, and a row goes
// left when float32(x) < threshold, exactly XGBoost's rule; prediction
// therefore needs no binning, and models convert losslessly to and from
// XGBoost's JSON model format (WriteXGBoostJSON, ReadXGBoostJSON).
//
// Prediction walks blocks of rows through each tree a level at a time, or,
// for shallow models (depth 3 or 4, say), uses QuickScorer's layout: a row
// visits the split nodes it passes right of, in threshold order, and
// clears their left-subtree leaves in each tree's bitvector (about a third
// less CPU on 1,000 depth-3 trees). Both sum the trees in model order, so
// margins are bit for bit those of walking each tree node by node.
//
// Training is deterministic: random streams derive from (seed, round), and
// every parallel step writes disjoint outputs or combines partial sums in a
// fixed block order, so a model does not depend on FitOptions.Workers or
// GOMAXPROCS.
//
// References: T. Chen and C. Guestrin, "XGBoost: A Scalable Tree Boosting
// System", KDD 2016; G. Ke et al., "LightGBM: A Highly Efficient Gradient
// Boosting Decision Tree", NeurIPS 2017.
package gbdt
