// Package tree implements CART decision trees (Breiman et al., 1984) for
// regression (squared error) and binary or multiclass classification (gini
// or entropy), in the manner of scikit-learn's DecisionTreeRegressor and
// DecisionTreeClassifier.
//
// Params is the Learner; Fit returns a *Model whose fitted *Tree is a set
// of flat, exported arrays (feature, threshold, children, per-node value,
// cover, impurity, depth) that explainers such as TreeSHAP walk directly.
//
// Split search is exact: every column is rank-coded once (Prepare), and
// each candidate feature's rows are scanned in rank order, so a split can
// fall between any two distinct training values. Up to 65,536 rows in
// play, each tree keeps every feature's rows presorted and partitions
// them stably at each split (presort.go); beyond that it sorts the
// candidate features' (rank, row) keys at each node. Thresholds
// are midpoints between the adjacent values, and rows with x <= threshold go
// left, as in scikit-learn. With Splitter "random" a node instead draws one
// uniform threshold per candidate feature (the Extra-Trees splitter of
// Geurts et al., 2006). Package forest grows many trees on one Prepared set.
//
// The trees do not handle missing values: NaN or ±Inf in X is an error at
// fit time and NaN an error at predict time, so the pipeline imputes first
// (the families declare Input.Missing false). Categorical columns arrive as
// ordinal codes and are split like numbers.
package tree
