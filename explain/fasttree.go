package explain

// Leaf tables (Yang's Fast TreeSHAP v2, 2021). For a leaf whose path
// splits on the distinct features U (in order of first appearance), the
// path-dependent TreeSHAP contribution of each u ∈ U depends on the row
// only through the set H ⊆ U of features whose every split on the path
// the row satisfies: with zero fractions z_u (products of cover ratios)
// and one fractions 1[u ∈ H], Algorithm 2's leaf step is a function of
// (H, u). Tabulating it for all 2^|U| sets once per tree turns each
// row's work per tree from O(L·D²) into one walk of the tree plus O(L·D)
// table reads. Tables grow as 2^D, so trees deeper than fastMaxUnique or
// ensembles whose tables would pass fastMaxFloats use the recursion.

const (
	// fastMaxUnique bounds the distinct features of a leaf's path for
	// the table path.
	fastMaxUnique = 12
	// fastMaxFloats bounds the table entries of one ensemble (64 MiB).
	fastMaxFloats = 8 << 20
)

// leafTables are one tree's precomputed leaf contributions.
type leafTables struct {
	pos   []int8  // internal node → position of its feature in U below it
	first []bool  // internal node → first split on its feature on the path
	leaf  []int32 // node → leaf index (−1 at internal nodes)
	feats [][]int32
	table [][]float64 // leaf → 2^d × d weights, set H at H*d
}

// tableSize returns the table entries t's leaves need, or −1 when a leaf
// path has more than fastMaxUnique distinct features.
func (t *shapTree) tableSize() int {
	size := 0
	var walk func(i int32, u []int32) bool
	walk = func(i int32, u []int32) bool {
		if t.left[i] < 0 {
			size += (1 << len(u)) * len(u)
			return true
		}
		f := t.feature[i]
		if !containsFeature(u, f) {
			if len(u) == fastMaxUnique {
				return false
			}
			u = append(u, f)
		}
		return walk(t.left[i], u) && walk(t.right[i], u)
	}
	if !walk(0, make([]int32, 0, fastMaxUnique)) {
		return -1
	}
	return size
}

func containsFeature(u []int32, f int32) bool {
	for _, g := range u {
		if g == f {
			return true
		}
	}
	return false
}

// buildTables fills t.fast with every leaf's table.
func (t *shapTree) buildTables(c *coefTables) {
	n := len(t.left)
	lt := &leafTables{pos: make([]int8, n), first: make([]bool, n), leaf: make([]int32, n)}
	path := make([]pathElem, fastMaxUnique+2)
	var walk func(i int32, u []int32, z []float64)
	walk = func(i int32, u []int32, z []float64) {
		if t.left[i] < 0 {
			lt.leaf[i] = int32(len(lt.feats))
			d := len(u)
			tab := make([]float64, (1<<d)*d)
			for h := range 1 << d {
				path[0] = pathElem{feature: -1, zero: 1, one: 1, pweight: 1}
				for k := range d {
					c.extend(path, k+1, z[k], float64(h>>k&1), u[k])
				}
				for k := range d {
					el := path[k+1]
					tab[h*d+k] = c.unwoundSum(path, d, k+1) * (el.one - el.zero)
				}
			}
			lt.feats = append(lt.feats, append([]int32(nil), u...))
			lt.table = append(lt.table, tab)
			return
		}
		lt.leaf[i] = -1
		f := t.feature[i]
		q := -1
		for k, g := range u {
			if g == f {
				q = k
			}
		}
		if q < 0 {
			q = len(u)
			lt.first[i] = true
			u = append(u, f)
			z = append(z, 1)
		}
		lt.pos[i] = int8(q)
		for _, side := range [2]struct {
			child int32
			frac  float64
		}{{t.left[i], t.zeroL[i]}, {t.right[i], 1 - t.zeroL[i]}} {
			zc := append([]float64(nil), z...)
			zc[q] *= side.frac
			walk(side.child, u[:len(u):len(u)], zc)
		}
	}
	walk(0, nil, nil)
	t.fast = lt
}

// stackItem is a node to visit and the row's set H on its path.
type stackItem struct {
	node int32
	h    uint32
}

// fastTree adds one tree's contributions for the current row to phi with
// the leaf tables: a walk of every node carrying H as a bit set over the
// path's distinct features.
func (w *shapWorker) fastTree(t *shapTree) {
	lt := t.fast
	stack := w.stack[:0]
	stack = append(stack, stackItem{0, 0})
	for len(stack) > 0 {
		it := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		i := it.node
		if t.left[i] < 0 {
			li := lt.leaf[i]
			feats := lt.feats[li]
			d := len(feats)
			row := lt.table[li][int(it.h)*d : int(it.h+1)*d]
			vals, outs := t.leafValues(i)
			if t.nout == 1 {
				v := vals[0]
				base := w.phi[t.group*w.f:]
				for k, f := range feats {
					base[f] += row[k] * v
				}
				continue
			}
			for o, v := range vals {
				if outs != nil {
					o = int(outs[o])
				}
				base := w.phi[(t.group+o)*w.f:]
				for k, f := range feats {
					base[f] += row[k] * v
				}
			}
			continue
		}
		bit := uint32(1) << uint(lt.pos[i])
		hh := it.h
		if lt.first[i] {
			hh |= bit
		}
		hot := t.hot(i, w.x)
		cold := t.left[i]
		if hot == cold {
			cold = t.right[i]
		}
		stack = append(stack, stackItem{hot, hh}, stackItem{cold, it.h &^ bit})
	}
	w.stack = stack
}
