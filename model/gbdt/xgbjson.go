package gbdt

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"

	"github.com/tabforge/tabforge/internal/prob"
	"github.com/tabforge/tabforge/model"
)

// Field names and values of XGBoost's JSON model format (doc/model.schema
// in dmlc/xgboost; src/tree/io_utils.h), named once here.
const (
	xkVersion          = "version"
	xkLearner          = "learner"
	xkAttributes       = "attributes"
	xkFeatureNames     = "feature_names"
	xkFeatureTypes     = "feature_types"
	xkGradientBooster  = "gradient_booster"
	xkName             = "name"
	xkModel            = "model"
	xkGBTreeModelParam = "gbtree_model_param"
	xkNumParallelTree  = "num_parallel_tree"
	xkNumTrees         = "num_trees"
	xkSizeLeafVector   = "size_leaf_vector"
	xkTreeInfo         = "tree_info"
	xkTrees            = "trees"
	xkLearnerParam     = "learner_model_param"
	xkBaseScore        = "base_score"
	xkBoostFromAverage = "boost_from_average"
	xkNumClass         = "num_class"
	xkNumFeature       = "num_feature"
	xkNumTarget        = "num_target"
	xkObjective        = "objective"
	xkRegLossParam     = "reg_loss_param"
	xkScalePosWeight   = "scale_pos_weight"
	xkSoftmaxParam     = "softmax_multiclass_param"
	xkHuberParam       = "pseudo_huber_param"
	xkHuberSlope       = "huber_slope"

	xkBaseWeights        = "base_weights"
	xkCategories         = "categories"
	xkCategoriesNodes    = "categories_nodes"
	xkCategoriesSegments = "categories_segments"
	xkCategoriesSizes    = "categories_sizes"
	xkDefaultLeft        = "default_left"
	xkID                 = "id"
	xkLeftChildren       = "left_children"
	xkLossChanges        = "loss_changes"
	xkParents            = "parents"
	xkRightChildren      = "right_children"
	xkSplitConditions    = "split_conditions"
	xkSplitIndices       = "split_indices"
	xkSplitType          = "split_type"
	xkSumHessian         = "sum_hessian"
	xkTreeParam          = "tree_param"
	xkNumDeleted         = "num_deleted"
	xkNumNodes           = "num_nodes"

	xvGBTree        = "gbtree"
	xvSquaredError  = "reg:squarederror"
	xvLinear        = "reg:linear" // the pre-1.0 name of reg:squarederror
	xvAbsoluteError = "reg:absoluteerror"
	xvPseudoHuber   = "reg:pseudohubererror"
	xvLogistic      = "binary:logistic"
	xvSoftprob      = "multi:softprob"
	xvSoftmax       = "multi:softmax"
	xvRootParent    = math.MaxInt32 // parents[0]
)

// xgbVersion is the XGBoost version written files claim; XGBoost 1.7.4
// and later load them.
var xgbVersion = [3]int{1, 7, 4}

func xgbObjectiveName(o Objective) string {
	switch o {
	case AbsoluteError:
		return xvAbsoluteError
	case Huber:
		return xvPseudoHuber
	case BinaryLogistic:
		return xvLogistic
	case MultiSoftmax:
		return xvSoftprob
	}
	return xvSquaredError
}

// f32s formats float32 values as XGBoost does: shortest round-trip
// decimal, so the file holds exactly the model's float32 values.
func f32s(v float32) string { return strconv.FormatFloat(float64(v), 'g', -1, 32) }

// floats32 marshals as a JSON array of numbers that always carry a
// decimal point or exponent: XGBoost's parser types 1 as an integer and
// rejects it where a float is due.
type floats32 []float32

// MarshalJSON writes the shortest float32 round-trip form of each value.
func (a floats32) MarshalJSON() ([]byte, error) {
	b := make([]byte, 0, 2+12*len(a))
	b = append(b, '[')
	for i, v := range a {
		if i > 0 {
			b = append(b, ',')
		}
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			return nil, fmt.Errorf("value %v has no JSON form", v)
		}
		start := len(b)
		b = strconv.AppendFloat(b, float64(v), 'g', -1, 32)
		if !strings.ContainsAny(string(b[start:]), ".eE") {
			b = append(b, '.', '0')
		}
	}
	return append(b, ']'), nil
}

// validXGBNames reports whether names can be written as XGBoost feature
// names (see checkXGBNames).
func validXGBNames(names []string) bool {
	return len(names) > 0 && checkXGBNames(names) == nil
}

// checkXGBNames reports the first of names XGBoost does not accept as a
// feature name: an empty one, one holding '[', ']' or '<', or a repeat.
func checkXGBNames(names []string) error {
	seen := map[string]bool{}
	for i, n := range names {
		switch {
		case n == "":
			return fmt.Errorf("name %d is empty", i)
		case strings.ContainsAny(n, "[]<"):
			return fmt.Errorf("name %q holds '[', ']' or '<'", n)
		case seen[n]:
			return fmt.Errorf("name %q is repeated", n)
		}
		seen[n] = true
	}
	return nil
}

// WriteXGBoostJSON writes m in XGBoost's JSON model format (version
// 1.7.4), which xgboost.Booster(model_file=...) loads and predicts with
// identically up to float32 summation (XGBoost sums leaf values in
// float32). Feature names are written when XGBoost accepts them.
func (m *Model) WriteXGBoostJSON(w io.Writer) error {
	k := m.obj.groups()
	for i, t := range m.trees {
		if t.hasCats() {
			return fmt.Errorf("gbdt: xgboost export: tree %d has categorical splits, which this exporter does not write (train with categorical_splits false)", i)
		}
	}
	base, err := m.xgbBaseScore()
	if err != nil {
		return err
	}
	trees := make([]map[string]any, len(m.trees))
	for ti, t := range m.trees {
		trees[ti] = xgbTreeJSON(t, ti, m.numFeature)
	}
	obj := m.xgbObjectiveJSON(k)
	names, types := []string{}, []string{}
	if validXGBNames(m.featureNames) {
		names = m.featureNames
		for range names {
			types = append(types, "float")
		}
	}
	numClass := 0
	if m.cfg.objective == MultiSoftmax {
		numClass = k
	}
	doc := map[string]any{
		xkVersion: xgbVersion,
		xkLearner: map[string]any{
			xkAttributes: map[string]string{}, xkFeatureNames: names, xkFeatureTypes: types,
			xkGradientBooster: map[string]any{
				xkName: xvGBTree,
				xkModel: map[string]any{
					xkGBTreeModelParam: map[string]string{
						xkNumParallelTree: "1", xkNumTrees: strconv.Itoa(len(m.trees)), xkSizeLeafVector: "0",
					},
					xkTreeInfo: m.treeClass,
					xkTrees:    trees,
				},
			},
			xkLearnerParam: map[string]string{
				xkBaseScore: f32s(float32(base)), xkBoostFromAverage: "1", xkNumClass: strconv.Itoa(numClass),
				xkNumFeature: strconv.Itoa(m.numFeature), xkNumTarget: "1",
			},
			xkObjective: obj,
		},
	}
	enc := json.NewEncoder(w)
	if err := enc.Encode(doc); err != nil {
		return fmt.Errorf("gbdt: xgboost export: %w", err)
	}
	return nil
}

// xgbBaseScore returns the one base score XGBoost stores, as a
// probability for binary logistic models, and refuses a model whose
// classes start from different margins, which XGBoost cannot hold.
func (m *Model) xgbBaseScore() (float64, error) {
	base := m.baseMargin[0]
	for _, b := range m.baseMargin[1:] {
		if b != base {
			return 0, errors.New("gbdt: xgboost export: per-class base margins differ; XGBoost stores one base score")
		}
	}
	if m.cfg.objective == BinaryLogistic {
		base = prob.Sigmoid(base) // XGBoost stores the probability
	}
	return base, nil
}

// xgbTreeJSON lays out tree t, number id, as XGBoost's JSON tree: arrays
// indexed by node, with the parent links and default directions XGBoost
// keeps, values as float32 as XGBoost stores them, and a leaf's value
// in its split condition, where XGBoost reads it.
func xgbTreeJSON(t *Tree, id, numFeature int) map[string]any {
	n := t.NumNodes()
	parents := make([]int32, n)
	parents[0] = xvRootParent
	dl := make([]int, n)
	split := make([]float32, n)
	feat := make([]int32, n)
	loss := make([]float32, n)
	cover := make([]float32, n)
	for i := range n {
		if !t.IsLeaf(i) {
			parents[t.left[i]], parents[t.right[i]] = int32(i), int32(i)
			feat[i] = t.feature[i]
			split[i] = t.threshold[i]
			loss[i] = float32(t.gain[i])
			if t.defaultLeft[i] {
				dl[i] = 1
			}
		} else {
			split[i] = t.value[i]
		}
		cover[i] = float32(t.cover[i])
	}
	return map[string]any{
		xkBaseWeights: floats32(t.value), xkCategories: []int{}, xkCategoriesNodes: []int{},
		xkCategoriesSegments: []int{}, xkCategoriesSizes: []int{}, xkDefaultLeft: dl, xkID: id,
		xkLeftChildren: t.left, xkLossChanges: floats32(loss), xkParents: parents, xkRightChildren: t.right,
		xkSplitConditions: floats32(split), xkSplitIndices: feat, xkSplitType: make([]int, n), xkSumHessian: floats32(cover),
		xkTreeParam: map[string]string{
			xkNumDeleted: "0", xkNumFeature: strconv.Itoa(numFeature),
			xkNumNodes: strconv.Itoa(n), xkSizeLeafVector: "0",
		},
	}
}

// xgbObjectiveJSON is the learner's objective section: the objective's
// XGBoost name and the parameters XGBoost reads for it (k is the number
// of classes of a multiclass model).
func (m *Model) xgbObjectiveJSON(k int) map[string]any {
	obj := map[string]any{xkName: xgbObjectiveName(m.cfg.objective)}
	switch m.cfg.objective {
	case SquaredError, BinaryLogistic:
		obj[xkRegLossParam] = map[string]string{xkScalePosWeight: "1"}
	case Huber:
		obj[xkHuberParam] = map[string]string{xkHuberSlope: strconv.FormatFloat(m.cfg.huberSlope, 'g', -1, 32)}
	case MultiSoftmax:
		obj[xkSoftmaxParam] = map[string]string{xkNumClass: strconv.Itoa(k)}
	}
	return obj
}

// ErrXGBoost reports an XGBoost JSON model that cannot be imported.
var ErrXGBoost = errors.New("gbdt: xgboost import")

type jsonObj = map[string]json.RawMessage

// field decodes o[key] into v, naming the path in errors.
func field(o jsonObj, path, key string, v any) error {
	raw, ok := o[key]
	if !ok {
		return fmt.Errorf("%w: missing %s%s", ErrXGBoost, path, key)
	}
	if err := json.Unmarshal(raw, v); err != nil {
		return fmt.Errorf("%w: %s%s: %w", ErrXGBoost, path, key, err)
	}
	return nil
}

// intString parses XGBoost's numbers-as-strings parameters.
func intString(o map[string]string, path, key string) (int, error) {
	v, err := strconv.Atoi(o[key])
	if err != nil {
		return 0, fmt.Errorf("%w: %s%s: %q is not an integer", ErrXGBoost, path, key, o[key])
	}
	return v, nil
}

// flag01 is a JSON 0/1 number or a boolean (XGBoost writes default_left
// as integers; some writers use booleans).
type flag01 bool

func (f *flag01) UnmarshalJSON(b []byte) error {
	switch string(b) {
	case "0", "false":
		*f = false
	case "1", "true":
		*f = true
	default:
		return fmt.Errorf("default_left value %s is not 0 or 1", b)
	}
	return nil
}

// ReadXGBoostJSON imports a gbtree model saved by XGBoost as JSON
// (Booster.save_model("*.json")) with objective reg:squarederror,
// reg:absoluteerror, reg:pseudohubererror, binary:logistic or
// multi:softprob (multi:softmax is read as multi:softprob: the model then
// predicts probabilities). Its predictions equal XGBoost's up to float32
// summation. Categorical splits, dart and gblinear are not supported, nor
// are feature names XGBoost does not write (empty, repeated, or holding
// '[', ']' or '<'). The imported model's Params hold only the objective
// and the tree count.
func ReadXGBoostJSON(r io.Reader) (*Model, error) {
	var top jsonObj
	if err := json.NewDecoder(r).Decode(&top); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrXGBoost, err)
	}
	learner, gbm, err := xgbLearner(top)
	if err != nil {
		return nil, err
	}
	var lp map[string]string
	if err := field(learner, "learner.", xkLearnerParam, &lp); err != nil {
		return nil, err
	}
	numFeature, err := intString(lp, "learner_model_param.", xkNumFeature)
	if err != nil {
		return nil, err
	}
	bs := strings.Trim(lp[xkBaseScore], "[] ") // XGBoost ≥ 2 writes "[5E-1]"
	base, err := strconv.ParseFloat(bs, 32)    // XGBoost holds it as float32
	if err != nil {
		return nil, fmt.Errorf("%w: base_score %q: %w", ErrXGBoost, lp[xkBaseScore], err)
	}
	p, task, numClass, base, err := xgbObjective(learner, lp, base)
	if err != nil {
		return nil, err
	}
	var rawTrees []jsonObj
	var treeInfo []int
	if err := field(gbm, "model.", xkTrees, &rawTrees); err != nil {
		return nil, err
	}
	if err := field(gbm, "model.", xkTreeInfo, &treeInfo); err != nil {
		return nil, err
	}
	p.NEstimators = max(1, len(rawTrees)/max(1, numClass))
	c, err := p.resolve(task)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrXGBoost, err)
	}
	m := &Model{params: p, cfg: c, task: task, numClass: numClass, numFeature: numFeature, treeClass: treeInfo}
	m.obj = newObjective(c, numClass)
	m.baseMargin = make([]float64, m.obj.groups())
	for i := range m.baseMargin {
		m.baseMargin[i] = base
	}
	if m.featureNames, err = xgbFeatureNames(learner, numFeature); err != nil {
		return nil, err
	}
	for ti, rt := range rawTrees {
		t, err := xgbTree(rt)
		if err != nil {
			return nil, fmt.Errorf("%w: tree %d: %w", ErrXGBoost, ti, err)
		}
		m.trees = append(m.trees, t)
	}
	if err := m.check(); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrXGBoost, err)
	}
	m.pack()
	return m, nil
}

// xgbLearner returns the learner of the XGBoost model document top and
// the model of its gradient booster, which must be a gbtree.
func xgbLearner(top jsonObj) (learner, gbm jsonObj, err error) {
	var booster jsonObj
	if err := field(top, "", xkLearner, &learner); err != nil {
		return nil, nil, err
	}
	if err := field(learner, "learner.", xkGradientBooster, &booster); err != nil {
		return nil, nil, err
	}
	var bname string
	if err := field(booster, "gradient_booster.", xkName, &bname); err != nil {
		return nil, nil, err
	}
	if bname != xvGBTree {
		return nil, nil, fmt.Errorf("%w: booster %q is not supported (only gbtree)", ErrXGBoost, bname)
	}
	if err := field(booster, "gradient_booster.", xkModel, &gbm); err != nil {
		return nil, nil, err
	}
	return learner, gbm, nil
}

// xgbFeatureNames returns the learner's feature names when it lists one
// per feature (numFeature of them), else nil.
func xgbFeatureNames(learner jsonObj, numFeature int) ([]string, error) {
	raw, ok := learner[xkFeatureNames]
	if !ok {
		return nil, nil
	}
	var names []string
	if err := json.Unmarshal(raw, &names); err != nil {
		return nil, fmt.Errorf("%w: feature_names: %w", ErrXGBoost, err)
	}
	if len(names) != numFeature {
		return nil, nil
	}
	// Names XGBoost does not write would not be written back
	// (WriteXGBoostJSON leaves them out), and the model would then
	// take other inputs than the one imported.
	if err := checkXGBNames(names); err != nil {
		return nil, fmt.Errorf("%w: feature_names: %w, which XGBoost does not write", ErrXGBoost, err)
	}
	return names, nil
}

// xgbObjective maps the learner's objective to tabforge's, with the task,
// the class count (multiclass) and the base score as a margin.
func xgbObjective(learner jsonObj, lp map[string]string, base float64) (p Params, task model.Task, numClass int, margin float64, err error) {
	var objJSON jsonObj
	if err := field(learner, "learner.", xkObjective, &objJSON); err != nil {
		return p, task, 0, 0, err
	}
	var oname string
	if err := field(objJSON, "objective.", xkName, &oname); err != nil {
		return p, task, 0, 0, err
	}
	switch oname {
	case xvSquaredError, xvLinear:
		p.Objective, task = SquaredError, model.Regression
	case xvAbsoluteError:
		p.Objective, task = AbsoluteError, model.Regression
	case xvPseudoHuber:
		p.Objective, task = Huber, model.Regression
		var hp map[string]string
		if err := field(objJSON, "objective.", xkHuberParam, &hp); err == nil {
			if s, err := strconv.ParseFloat(hp[xkHuberSlope], 64); err == nil {
				p.HuberSlope = s
			}
		}
	case xvLogistic:
		p.Objective, task = BinaryLogistic, model.Binary
		if !(base > 0 && base < 1) {
			return p, task, 0, 0, fmt.Errorf("%w: binary:logistic base_score %v is not a probability", ErrXGBoost, base)
		}
		base = math.Log(base / (1 - base))
	case xvSoftprob, xvSoftmax:
		p.Objective, task = MultiSoftmax, model.Multiclass
		if numClass, err = intString(lp, "learner_model_param.", xkNumClass); err != nil {
			return p, task, 0, 0, err
		}
		if numClass < 2 {
			return p, task, 0, 0, fmt.Errorf("%w: %s with num_class %d", ErrXGBoost, oname, numClass)
		}
	default:
		return p, task, 0, 0, fmt.Errorf("%w: objective %q is not supported", ErrXGBoost, oname)
	}
	return p, task, numClass, base, nil
}

// xgbTree converts one tree object of XGBoost's JSON model.
func xgbTree(rt jsonObj) (*Tree, error) {
	var (
		left, right, feat       []int32
		cond, weights, loss, hs []float64
		dl                      []flag01
		stype                   []int
	)
	for _, f := range []struct {
		key string
		v   any
	}{
		{xkLeftChildren, &left}, {xkRightChildren, &right}, {xkSplitIndices, &feat},
		{xkSplitConditions, &cond}, {xkBaseWeights, &weights}, {xkLossChanges, &loss},
		{xkSumHessian, &hs}, {xkDefaultLeft, &dl},
	} {
		if err := field(rt, "tree.", f.key, f.v); err != nil {
			return nil, err
		}
	}
	if raw, ok := rt[xkSplitType]; ok {
		if err := json.Unmarshal(raw, &stype); err != nil {
			return nil, fmt.Errorf("split_type: %w", err)
		}
	}
	for i, s := range stype {
		if s != 0 {
			return nil, fmt.Errorf("node %d: categorical splits are not supported", i)
		}
	}
	n := len(left)
	for _, l := range []int{len(right), len(feat), len(cond), len(weights), len(loss), len(hs), len(dl)} {
		if l != n {
			return nil, fmt.Errorf("%w: node arrays of different lengths", errTree)
		}
	}
	t := &Tree{
		left: left, right: right, feature: feat, threshold: make([]float32, n), defaultLeft: make([]bool, n),
		value: make([]float32, n), cover: hs, gain: loss,
	}
	for i := range n {
		t.threshold[i] = float32(cond[i])
		t.defaultLeft[i] = bool(dl[i])
		if left[i] < 0 {
			t.value[i] = float32(cond[i]) // a leaf's value is its split_condition
			t.feature[i] = 0
			t.gain[i] = 0
		} else {
			t.value[i] = float32(weights[i])
		}
	}
	return t, nil
}
