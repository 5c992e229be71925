package failover

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/tabforge/tabforge/store"
	"github.com/tabforge/tabforge/store/sqlite"
	"github.com/tabforge/tabforge/tune"
)

// trialBase names a trial's state for a trial's Pending.Base, as
// sqlite.RecordBase does a record's: "absent" for none, else a digest of
// its state, objective value and parameters, which the process that
// runs a trial sets and tune's workers change by claiming or finishing
// it. Times and trial ids differ between the two stores and the Store's
// own copy (see Store.mirror), and are left out.
func trialBase(t *tune.FrozenTrial) string {
	if t == nil {
		return "absent"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s\x00%s", t.State, fbits(t.Value))
	names := make([]string, 0, len(t.Params))
	for name := range t.Params {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		fmt.Fprintf(&b, "\x00%s=%s", name, fbits(t.Params[name]))
	}
	sum := sha256.Sum256([]byte(b.String()))
	return "trial:" + hex.EncodeToString(sum[:])
}

// fbits formats v exactly, every NaN alike (the stores keep no NaN
// payload).
func fbits(v float64) string {
	if math.IsNaN(v) {
		return "NaN"
	}
	return strconv.FormatFloat(v, 'g', -1, 64)
}

// putStudy copies the fallback's study name to the primary, once.
func (r *replayer) putStudy(name string) error {
	if _, ok := r.putStudies[name]; ok {
		return nil
	}
	st, ok := r.studies[name]
	if !ok {
		return fmt.Errorf("study %q is journalled but not in the fallback: %w", name, store.ErrNotFound)
	}
	id, err := r.primary.PutStudy(r.ctx, st)
	if err != nil {
		return err
	}
	r.putStudies[name] = id
	r.n.Studies++
	return nil
}

// trial copies the fallback's state of p's trial to the primary. A
// trial written on the fallback over a state other than the primary's
// current one (p.Base, see trialBase) is left as the primary has it and
// reported in Conflicts, as a record is (see primaryKeeps): another
// process that reached the primary during the outage may have run a
// trial of the same number, or claimed the same waiting trial. The
// primary's trial is read when the study's first entry is replayed, and
// written only while it is still as read (store.SwapTrial), so that a
// trial another process writes between the read and the write stands
// too.
func (r *replayer) trial(p sqlite.Pending) error {
	if err := r.putStudy(p.A); err != nil {
		return err
	}
	num, err := strconv.Atoi(p.B)
	if err != nil {
		return fmt.Errorf("journal: bad trial number %q", p.B)
	}
	local, err := r.studyTrials(p.A)
	if err != nil {
		return err
	}
	t, ok := local[num]
	if !ok {
		return fmt.Errorf("journalled trial %d of study %q is missing from the fallback", num, p.A)
	}
	put, err := r.putTrial(p, t)
	if err != nil {
		return err
	}
	if put {
		r.n.Trials++
	} else {
		r.n.Conflicts = append(r.n.Conflicts, "trial/"+p.A+"/"+p.B)
	}
	return nil
}

// putTrial writes the fallback's trial t of p to the primary unless the
// primary's trial of that number stands (see trial), and reports whether
// it did. A refused swap is such a trial too: written since the read.
func (r *replayer) putTrial(p sqlite.Pending, t tune.FrozenTrial) (bool, error) {
	if p.Base == "" { // journalled before trials had bases, or by PutTrial
		return true, r.primary.PutTrial(r.ctx, p.A, t)
	}
	remote, err := r.primaryTrials(p.A)
	if err != nil {
		return false, err
	}
	cur := remote[t.Number]
	now := trialBase(cur)
	if now != p.Base && now != trialBase(&t) && !(r.lost && cur == nil) {
		return false, nil
	}
	return store.SwapTrial(r.ctx, r.primary, p.A, cur, t)
}

// studyTrials returns the fallback's trials of study name by number,
// read once.
func (r *replayer) studyTrials(name string) (map[int]tune.FrozenTrial, error) {
	if byNumber, ok := r.trials[name]; ok {
		return byNumber, nil
	}
	list, err := r.fallback.Trials(r.ctx, r.studies[name].ID)
	if err != nil {
		return nil, err
	}
	byNumber := make(map[int]tune.FrozenTrial, len(list))
	for _, t := range list {
		byNumber[t.Number] = t
	}
	r.trials[name] = byNumber
	return byNumber, nil
}

// primaryTrials returns the primary's trials of study name, copied there
// already (see putStudy), by number, read once.
func (r *replayer) primaryTrials(name string) (map[int]*tune.FrozenTrial, error) {
	if byNumber, ok := r.remoteTrials[name]; ok {
		return byNumber, nil
	}
	list, err := r.primary.Trials(r.ctx, r.putStudies[name])
	if err != nil {
		return nil, err
	}
	byNumber := make(map[int]*tune.FrozenTrial, len(list))
	for i := range list {
		byNumber[list[i].Number] = &list[i]
	}
	r.remoteTrials[name] = byNumber
	return byNumber, nil
}
