// Package meta learns from past experiments which configurations to try
// first on a new dataset.
//
// It has three parts:
//
//   - Meta-features (Compute): a fixed catalogue of numbers describing a
//     training table, in four groups. Simple ones (rows, columns, the
//     share of numeric, categorical and missing values, class count and
//     imbalance, target skew and kurtosis) read every row; statistical
//     ones (mean and spread of the numeric columns' skew and kurtosis,
//     their correlation with the target) and information-theoretic ones
//     (class entropy, mutual information of each column with the target)
//     read a seeded sample of at most Options.StatRows rows; landmarkers
//     (the cross-validated score of 1-nearest-neighbour, a decision
//     stump, a depth-3 tree, ridge or L2 logistic regression and the
//     constant model) fit a sample of at most Options.LandmarkRows rows.
//     Each value carries the time of the pass that computed it.
//
//   - A distance between datasets (Scaler): meta-features are first put
//     on a scale where differences mean the same everywhere (log for
//     counts, a signed log for skew and kurtosis, none for shares and
//     scores), then divided by their robust spread across the knowledge
//     base (IQR/1.349 over the known datasets, floored per feature), so
//     one unit is one typical difference between known datasets. The
//     distance is the weighted mean absolute scaled difference over the
//     meta-features both datasets have (auto-sklearn 1 used an L1
//     distance on standardised meta-features too).
//
//   - A knowledge base (KB) in a store.Records: per dataset version the
//     meta-features of its training part, the rows a train run of it asks
//     about (kind KindDataset), and per evaluated configuration
//     (family, feature variant, parameters) its CV score, fold scores and
//     time (kind KindEval). KB implements pipeline.KnowledgeRecorder, so
//     every train run given it appends its trials, candidates and
//     ensembles. The records travel with store export and import.
//
// Advise puts them together for a new table: its nearest known datasets,
// the best configurations on those (de-duplicated), and whether the table
// is far from everything known (see FarThreshold), in which case a
// warm start should fall back to a cold one.
//
// Advisor is the meta-learner of a training run (pipeline.MetaAdvisor):
// with the config's meta_learning on, each untuned family trains with
// the best-ranked configuration of the nearest known datasets
// (zero-shot), each tuning study tries them first, best first (warm
// start), and a table far from everything known starts cold. The
// ranking is a Surrogate per family, a small gradient-boosted model
// fitted on the whole knowledge base ([meta-features, parameters] → the
// configuration's normalised rank on its dataset), blended with each
// configuration's record against the static defaults; a SurrogateCache
// refits it only when the knowledge base changed.
// WithShipped layers the user's store over the knowledge base shipped in
// the binary (Shipped), so a user's own runs add to it. A run is never
// advised by the shipped records of its own data file, and by the
// user's only when they were scored on its split (Eval.Split): another
// split's CV folds held the run's test rows.
//
// The shipped knowledge base, shipped.json.gz, is Design (per family the
// static defaults and a seeded space-filling set: gbdt 16, forest 6,
// ridge or logistic 5 configurations) cross-validated by Build on the
// 97-dataset meta corpus and the four shared tables of testdata (2,727
// evaluations, 164 KB), built from the repository root with
//
//	tabforge meta build --corpus $META_CORPUS --data testdata/ames.csv:Sale_Price \
//	    --data testdata/credit_data.csv:Status --data testdata/mlc_churn.csv:churn \
//	    --data testdata/txhousing.csv:median --out meta/shipped.json.gz --jobs 2
//
// where $META_CORPUS is the corpus directory holding MANIFEST.csv. Run on
// an existing file, the build scores only the design configurations it
// lacks: the gbdt design grew from 7 to 16 points that way (10 minutes
// with two jobs on a loaded machine). A dataset's meta-features describe
// its file's training part after the default holdout split (by the
// manifest's time column when it names one), as a train run of the file
// is advised; the shipped ones, first computed on whole files, were
// recomputed by the same command with --refresh-features, which keeps
// the scores (36 s).
//
// EvaluateZeroShot and EvaluateWarmStart (`tabforge meta eval`) measure
// it leave-one-dataset-out; the README has the tables. With
//
//	tabforge meta eval --corpus $META_CORPUS --sample 20 --seed 1 --trials 30 -v
//
// (gbdt, 30 trials, 5 of them warm starts, after which TPE's model and
// random sampling alternate until 5 random trials), warm reaches cold's
// final best on 10 of the 20 tables after a median of 6.5 trials, with
// mean normalised best scores after 5, 10 and 30 trials of 0.601, 0.764
// and 0.950 against cold's 0.644, 0.728 and 0.916. With the meta-features
// of whole files in the knowledge base (queries already described
// training parts) they were 0.609, 0.810 and 0.928 against 0.643, 0.727
// and 0.922: 7 of the 20 tables tune differently, 2 of them (aer_guns,
// aer_teachingratings) carry the fall at 10 trials. Before the advisor was
// asked about the training rows only (the test rows' targets had helped
// choose the starts), they were 11 tables, 7 trials, 0.651, 0.797 and
// 0.938 against 0.639, 0.723 and 0.937: other meta-features changed the
// starts of 3 tables, two of them tables with almost no signal (R² near
// 0, AUC near 0.5), where a small difference spans much of the
// normalised range (the README has the account). With 5 random trials right after the starts, the median
// reach was 14 trials.
package meta
