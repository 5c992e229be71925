package meta

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"

	"github.com/tabforge/tabforge/store"
)

// Why an evaluation of the run's own data file is left out of its advice.
const (
	hiddenOtherSplit   = "recorded on another split: its CV folds held this run's test rows"
	hiddenUnknownSplit = "recorded without its split (before splits were recorded): its CV folds may have held this run's test rows"
)

// otherSplits returns the keys of recs' records of the dataset with key
// that a run on split must not see: each evaluation recorded on another
// split, or with none (an older record, or a run that could not say),
// and the dataset record itself when no evaluation of it is left, so
// that it takes no neighbour's place while advising nothing. A run that
// knows no split ("") sees none of the dataset's evaluations. log (nil:
// none) says at debug level which were left out and why, and at info
// level how many.
func otherSplits(ctx context.Context, recs store.Records, key, split string, log *slog.Logger) (map[string]bool, error) {
	list, err := recs.ListRecords(ctx, KindEval, key+"/")
	if err != nil {
		return nil, fmt.Errorf("meta: evaluations of %s: %w", key, err)
	}
	hidden := map[string]bool{}
	counts := map[string]int{}
	for _, r := range list {
		var e Eval
		if err := json.Unmarshal(r.Value, &e); err != nil {
			return nil, fmt.Errorf("meta: evaluation %s: %w", r.Key, err)
		}
		why := ""
		switch {
		case e.Split == "":
			why = hiddenUnknownSplit
		case e.Split != split:
			why = hiddenOtherSplit
		}
		if why == "" {
			continue
		}
		hidden[r.Key] = true
		counts[why]++
		if log != nil {
			log.Debug("meta-learning: left out an evaluation of this data file", "family", e.Family, "config", e.ID,
				"run", e.RunID, "study", e.Study, "trial", e.Trial, "reason", why)
		}
	}
	if len(list) > 0 && len(hidden) == len(list) {
		hidden[key] = true
	}
	if log != nil && len(hidden) > 0 {
		// Their CV folds held (or may have held) rows this run tests.
		log.Info("meta-learning: left out this data file's evaluations of other splits", "other_split", counts[hiddenOtherSplit],
			"unknown_split", counts[hiddenUnknownSplit], "kept", len(list)-counts[hiddenOtherSplit]-counts[hiddenUnknownSplit])
	}
	return hidden, nil
}
