// Package drift measures how far a current batch of data has moved from a
// reference batch (usually the data a model was trained on), column by
// column, and gives a dataset verdict.
//
// Each column gets one drift test, chosen by kind and by sample size as
// Evidently does, because a p-value on a large sample flags differences
// too small to matter while a distance on a small one is too noisy:
//
//   - numeric, at most Options.TestRows (1,000) reference values: the
//     two-sample Kolmogorov–Smirnov test, drifted when p < 0.05;
//   - numeric, more values: the Wasserstein distance divided by the
//     reference standard deviation ("normed"), drifted when ≥ 0.1;
//   - categorical (and numeric with at most 5 distinct reference values),
//     small: the chi-squared test of homogeneity, drifted when p < 0.05;
//   - categorical, large: the Jensen–Shannon distance (square root of the
//     divergence, natural log), drifted when ≥ 0.1.
//
// Every column also gets the population stability index (PSI) over ten
// quantile bins of the reference (categories for categorical columns), an
// empty bin counting as a share of 0.0001, with the industry's bands:
// below 0.1 stable, below 0.25 moderate, else significant. PSI is
// reported, not used for the verdict.
//
// The dataset drifts when at least half (Options.Share) of the compared
// feature columns drift. The target and a model's predictions are tested
// the same way and reported apart; they do not count in the share.
//
// Missing values: NaN and ±Inf are left out of the numeric tests (their
// share is reported, and PSI has a bin for them); a missing category is
// the level "(missing)". Datetime columns are not compared, since time
// always moves between two periods, nor are identifier-like categorical
// columns (more distinct levels than half the rows).
//
// The p-values come from gonum: distuv.ChiSquared for chi-squared, and
// for Kolmogorov–Smirnov the asymptotic Kolmogorov distribution with
// Stephens' small-sample correction (gonum has no Kolmogorov
// distribution; it is a fast-converging series).
package drift
