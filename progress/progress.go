// Package progress defines the events tabforge's library emits while it
// works. The library never prints: the CLI renders events as progress bars
// and the UI streams them.
package progress

// Stage names the unit of work an event counts.
type Stage string

// Stages emitted by tabforge's packages.
const (
	// Step is a stage of the training flow (load, split, candidates, ...),
	// Name says which; Step counts the stages done.
	Step       Stage = "stage"
	Load       Stage = "load"
	Candidate  Stage = "candidate"
	CVFold     Stage = "cv_fold"
	GBDTRound  Stage = "gbdt_round"
	ForestTree Stage = "forest_tree"
	TuneTrial  Stage = "tune_trial"
	MetaBuild  Stage = "meta_build" // datasets scored by `tabforge meta build`
	// ExplainRow counts rows explained by KernelSHAP, LIME or
	// interventional SHAP (Name says which), the explainers that cost
	// milliseconds to seconds per row. An ensemble's members explained
	// one after another count each row by its cost, in rows of the mean
	// cost (explain.MemberProgress), so Step/Total is the work done.
	ExplainRow Stage = "explain_row"
)

// Event reports that Step of Total units of Stage are done. Name qualifies
// the stage (a candidate's name, say); Metrics carries optional figures.
type Event struct {
	Stage   Stage
	Name    string
	Step    int
	Total   int
	Metrics map[string]float64
}

// Func receives events. Calls are synchronous and ordered; a Func must be
// cheap and must not block.
type Func func(Event)

// Emit calls f with e if f is not nil.
func (f Func) Emit(e Event) {
	if f != nil {
		f(e)
	}
}
