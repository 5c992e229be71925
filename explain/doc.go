// Package explain owns model explanations: exact path-dependent TreeSHAP
// (Lundberg, Erion and Lee, 2018) for package tree, forest and gbdt
// models, exact linear SHAP for package linear models, exact values of
// package ensemble models whose combination is linear in what their
// members' exact explainers decompose (EnsembleSHAP, CombineSHAP),
// interventional SHAP against background rows with margins rescaled
// through the link (a softmax's class margins through its Jacobian
// averaged along the path), as SHAP's TreeExplainer with
// model_output="probability" (InterventionalSHAP; Explain combines an
// ensemble's members' as it combines exact values), KernelSHAP
// (Lundberg and Lee, 2017) for any other model or whole predictor, LIME
// (Ribeiro, Singh and Guestrin, 2016) for single rows, partial dependence
// and ICE curves in one and two dimensions, and permutation importance.
//
// Every explainer works on the design matrix a model sees (model.Matrix),
// so "features" are the model's input columns: features.Design's
// FeatureNames. pipeline.Explain applies a saved predictor's feature
// chain and design to a frame first (this package does not import
// pipeline, so that pipeline's reports can use it).
//
// SHAP results are a Values: plain row-major float64 slices, one value per
// (row, output, feature), a BaseValue per output and the names, so plots
// and CSV writers need nothing from this package. Every SHAP explainer is
// locally accurate: BaseValue + Σ_j φ_j equals the explained output of
// the row (Values.Output says which: the prediction, or the margin of
// models with a link function), to Values.Tolerance.
//
// Result types, for plots and reports: Values (SHAP values; beeswarm and
// dependence plots read Values, X and FeatureNames), Interactions (SHAP
// interaction values), LIMEExplanation, PD1 and PD2 (partial dependence
// with ICE curves) and Importance (permutation importance). All are
// plain exported fields with JSON tags, row-major float64 slices, and
// documented layouts.
//
// Results are deterministic: randomness (KernelSHAP coalitions, background
// sampling, LIME perturbations, permutations) comes from the seed alone,
// per row, so the worker count never changes an answer.
package explain
