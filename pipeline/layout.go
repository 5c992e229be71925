package pipeline

import (
	"github.com/tabforge/tabforge/ensemble"
	"github.com/tabforge/tabforge/features"
	"github.com/tabforge/tabforge/model"
	"github.com/tabforge/tabforge/model/forest"
	"github.com/tabforge/tabforge/model/gbdt"
	"github.com/tabforge/tabforge/model/linear"
	"github.com/tabforge/tabforge/model/tree"
)

// A predictor file's layout version is the lowest predictor layout whose
// readers understand everything the file holds, not the layout of the
// build that wrote it. The names a file holds (model families, fitted
// feature-step kinds, target transforms) are versioned with the layout:
// a build that adds one raises predictorVersion and gives the name that
// version in layoutOf, so that only files that use it are written at the
// new version. Every build, those released before this rule included
// (they read layouts 1 to 2), refuses a layout above its own as written
// by a newer tabforge, and keeps reading files that do not use the new
// name. A name this build does not know in a file of a layout it reads
// is therefore no newer build's: the file is corrupt (or was saved with
// a family its reader's registry lacks).

// minLayout is the least layout this build writes: the one every build
// since ensembles were added writes, so that their readers keep reading
// this build's files.
const minLayout = 2

// nameKind says which namespace a name of a predictor file is in.
type nameKind int

const (
	familyName nameKind = iota
	stepName
	transformName
)

// layoutOf returns the predictor layout that introduced name, and false
// for a name tabforge does not ship (a library user's own family).
func layoutOf(kind nameKind, name string) (int, bool) {
	switch kind {
	case familyName:
		switch name {
		case linear.FamilyOLS, linear.FamilyRidge, linear.FamilyLogistic, tree.FamilyName,
			forest.FamilyForest, forest.FamilyExtraTrees, gbdt.FamilyName:
			return 1, true
		case ensemble.FamilyName:
			return 2, true
		}
	case stepName:
		switch name {
		case features.KindDrop, features.KindChain, features.KindTemporal, features.KindMarket, features.KindInteraction:
			return 1, true
		}
	case transformName:
		switch name {
		case model.TargetLog, model.TargetTrend:
			return 1, true
		}
	}
	return 0, false
}

// columnMissingLayout is the layout that added per-column missing-value
// texts (Predictor.ColumnMissing).
const columnMissingLayout = 3

// layout returns the layout version p's file is written at: the highest
// layoutOf of the names it holds, its segments' included, at least
// columnMissingLayout when it keeps per-column missing-value texts, and
// at least minLayout.
func (p *Predictor) layout() int {
	v := minLayout
	if len(p.ColumnMissing) > 0 {
		v = columnMissingLayout
	}
	need := func(kind nameKind, name string) {
		if l, ok := layoutOf(kind, name); ok {
			v = max(v, l)
		}
	}
	needModel := func(chain features.FittedChain, m model.Model) {
		needSteps(chain, need)
		need(familyName, m.Family())
		for m != nil {
			switch t := m.(type) {
			case *model.LogTargetModel:
				need(transformName, model.TargetLog)
				m = t.Inner
			case *model.TrendModel:
				need(transformName, model.TargetTrend)
				m = t.Inner
			default:
				m = nil
			}
		}
	}
	if len(p.Members) == 0 {
		needModel(p.Chain, p.Model)
	} else {
		need(familyName, ensemble.FamilyName)
		for _, m := range p.Members {
			needModel(m.Chain, m.Model)
		}
	}
	if p.Routes != nil {
		for _, sub := range p.Routes.Models {
			v = max(v, sub.layout())
		}
	}
	return v
}

// needSteps calls need with the kind of every step of chain, nested
// chains' steps included.
func needSteps(chain features.FittedChain, need func(nameKind, string)) {
	for _, f := range chain {
		if e, ok := f.(features.Encodable); ok {
			need(stepName, e.Kind())
		}
		if c, ok := f.(features.FittedChain); ok {
			needSteps(c, need)
		}
	}
}
