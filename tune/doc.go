// Package tune searches hyperparameters the way Optuna does, natively in
// Go: a Study runs Trials; a Sampler proposes parameter values; a Pruner
// stops unpromising trials early; a Storage records every trial so that an
// interrupted study resumes where it stopped.
//
// The objective suggests the parameters it needs through the Trial
// (SuggestFloat, SuggestInt, SuggestCategorical), so conditional search
// spaces are plain Go control flow: a parameter exists in a trial only if
// the objective asked for it. Intermediate values (per CV fold or per
// boosting round) go through Trial.Report, and Trial.ShouldPrune asks the
// study's Pruner; an objective that is told to stop returns ErrPruned.
//
// Samplers: RandomSampler, GridSampler (an explicit grid) and TPESampler,
// the Tree-structured Parzen Estimator of Bergstra et al. (2011) with
// Optuna's defaults (10 random startup trials, γ(n) = min(⌈0.1·n⌉, 25), 24
// expected-improvement candidates, a prior component, "magic clip" of
// bandwidths) and its multivariate variant (Falkner et al., 2018), which
// models parameters seen together jointly. Every random choice of a trial
// draws from a stream derived from (study seed, trial number), so a study
// run with one worker is reproducible.
//
// Pruners: MedianPruner, SuccessiveHalving (asynchronous successive
// halving, Li et al., 2020) and Hyperband (Li et al., 2018), over steps such
// as CV folds or boosting rounds.
//
// Budgets: Study.Optimize stops launching trials when Budget.MaxTrials
// trials of the study have finished or Budget.MaxDuration has passed, and
// cancels the context of running trials at that deadline.
//
// Search spaces per model family are defined in code (SpaceFor) and can be
// fixed or narrowed from configuration (Space.Override).
package tune
