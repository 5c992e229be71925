package explain

// The unique path of Lundberg et al.'s Algorithm 2 (Consistent Individual
// Feature Attribution for Tree Ensembles, 2018): its elements, the
// coefficient tables of its updates, and the walk of one row down a tree.

// pathElem is one feature on the unique path of Lundberg et al.'s
// Algorithm 2: the fractions of "zero" (feature unknown: cover-weighted)
// and "one" (feature known: follows x) paths flowing through, and the
// permutation weight.
type pathElem struct {
	feature int32
	zero    float64
	one     float64
	pweight float64
}

// coefTables holds the depth-dependent ratios of Algorithm 2's path
// updates, so the inner loops multiply instead of divide. Row d (path
// length d+1) has entries i = 0..d at d*stride+i.
type coefTables struct {
	stride int
	up     []float64 // (i+1)/(d+1)
	dn     []float64 // (d−i)/(d+1)
	ra     []float64 // (d+1)/(i+1)
	rc     []float64 // (d+1)/(d−i), i < d
}

func newCoefTables(maxLen int) *coefTables {
	s := maxLen + 1
	c := &coefTables{stride: s, up: make([]float64, s*s), dn: make([]float64, s*s), ra: make([]float64, s*s), rc: make([]float64, s*s)}
	for d := range s {
		d1 := float64(d + 1)
		for i := 0; i <= d; i++ {
			c.up[d*s+i] = float64(i+1) / d1
			c.dn[d*s+i] = float64(d-i) / d1
			c.ra[d*s+i] = d1 / float64(i+1)
			if i < d {
				c.rc[d*s+i] = d1 / float64(d-i)
			}
		}
	}
	return c
}

// extend adds a feature with fractions zero and one to the path of
// length depth held at p.
func (c *coefTables) extend(p []pathElem, depth int, zero, one float64, feature int32) {
	p[depth] = pathElem{feature: feature, zero: zero, one: one}
	if depth == 0 {
		p[0].pweight = 1
		return
	}
	up, dn := c.up[depth*c.stride:], c.dn[depth*c.stride:]
	for i := depth - 1; i >= 0; i-- {
		w := p[i].pweight
		p[i+1].pweight += one * w * up[i]
		p[i].pweight = zero * w * dn[i]
	}
}

// unwind removes path element k from the path of length depth (undoing
// extend), shifting the later elements down.
func (c *coefTables) unwind(p []pathElem, depth, k int) {
	one, zero := p[k].one, p[k].zero
	next := p[depth].pweight
	ra, dn, rc := c.ra[depth*c.stride:], c.dn[depth*c.stride:], c.rc[depth*c.stride:]
	if one != 0 {
		inv := 1 / one
		for i := depth - 1; i >= 0; i-- {
			tmp := p[i].pweight
			p[i].pweight = next * ra[i] * inv
			next = tmp - p[i].pweight*zero*dn[i]
		}
	} else {
		inv := 1 / zero
		for i := depth - 1; i >= 0; i-- {
			p[i].pweight *= rc[i] * inv
		}
	}
	for i := k; i < depth; i++ {
		p[i].feature, p[i].zero, p[i].one = p[i+1].feature, p[i+1].zero, p[i+1].one
	}
}

// unwoundSum returns the total permutation weight of the path of length
// depth with element k removed, without modifying it.
func (c *coefTables) unwoundSum(p []pathElem, depth, k int) float64 {
	one, zero := p[k].one, p[k].zero
	var total float64
	if one != 0 {
		ra, dn := c.ra[depth*c.stride:depth*c.stride+depth], c.dn[depth*c.stride:depth*c.stride+depth]
		next := p[depth].pweight
		if one != 1 {
			next /= one // tmp below is (next/one)·ra[i]; path-dependent paths only have one ∈ {0, 1}
		}
		for i := depth - 1; i >= 0; i-- {
			tmp := next * ra[i]
			total += tmp
			next = p[i].pweight - tmp*zero*dn[i]
			if one != 1 {
				next /= one
			}
		}
	} else if zero != 0 {
		total = c.coldSum(p, depth) / zero
	}
	return total
}

// coldSum is Σ_{i<depth} pweight_i·(d+1)/(d−i): the unwound sum of any
// element with one = 0, times its zero fraction. It does not depend on the
// element, so a leaf computes it once for all its cold elements (the
// observation behind Yang's Fast TreeSHAP v1).
func (c *coefTables) coldSum(p []pathElem, depth int) float64 {
	rc := c.rc[depth*c.stride:]
	var s float64
	for i := range depth {
		s += p[i].pweight * rc[i]
	}
	return s
}

// recurse is Algorithm 2's RECURSE at node i. Each call copies its
// parent's path (depth elements at w.path[poff:]) into its own block just
// after the parent's, so siblings never see each other's changes; the
// blocks of one root-to-leaf chain fit in the buffer newWorker sizes.
func (w *shapWorker) recurse(t *shapTree, i int32, poff, depth int, zero, one float64, feature int32) {
	c := w.c
	off := poff + depth + 1
	p := w.path[off : off+depth+1]
	copy(p[:depth], w.path[poff:poff+depth])
	c.extend(p, depth, zero, one, feature)
	if t.left[i] < 0 {
		vals, outs := t.leafValues(i)
		cold, haveCold := 0.0, false
		for k := 1; k <= depth; k++ {
			el := p[k]
			var s float64
			if el.one == 0 {
				// (coldSum/zero)·(0 − zero): the zero fraction cancels.
				if !haveCold {
					cold, haveCold = -c.coldSum(p, depth), true
				}
				s = cold
			} else {
				s = c.unwoundSum(p, depth, k) * (el.one - el.zero)
			}
			if t.nout == 1 {
				w.phi[t.group*w.f+int(el.feature)] += s * vals[0]
				continue
			}
			phi := w.phi[t.group*w.f+int(el.feature):]
			for o, v := range vals {
				if outs != nil {
					o = int(outs[o])
				}
				phi[o*w.f] += s * v
			}
		}
		return
	}
	b, depth := w.descend(t, i, p, depth)
	hot, cold, hotZero, coldZero, inZero, inOne, f := b.hot, b.cold, b.hotZero, b.coldZero, b.inZero, b.inOne, b.feature
	// A branch whose zero and one fractions are both 0 zeroes every path
	// weight below it and so adds nothing; skipping it also avoids 0/0 in
	// a later unwind.
	if hz := hotZero * inZero; hz != 0 || inOne != 0 {
		w.recurse(t, hot, off, depth+1, hz, inOne, f)
	}
	if cz := coldZero * inZero; cz != 0 {
		w.recurse(t, cold, off, depth+1, cz, 0, f)
	}
}

// branch is a split node seen from the explained row: the hot child the
// row goes to, the cold one, the share of the node's cover each takes, and
// the zero and one fractions an earlier split on the same feature had put
// on the path.
type branch struct {
	hot, cold         int32
	hotZero, coldZero float64
	inZero, inOne     float64
	feature           int32
}

// descend reads split node i for the worker's row and unwinds an earlier
// split on the same feature from the path p, returning the branch and the
// path's new depth.
func (w *shapWorker) descend(t *shapTree, i int32, p []pathElem, depth int) (branch, int) {
	b := branch{hot: t.hot(i, w.x), cold: t.right[i], hotZero: t.zeroL[i], inZero: 1, inOne: 1, feature: t.feature[i]}
	if b.hot != t.left[i] {
		b.cold, b.hotZero = t.left[i], 1-b.hotZero
	}
	b.coldZero = 1 - b.hotZero
	for k := 1; k <= depth; k++ {
		if p[k].feature == b.feature {
			b.inZero, b.inOne = p[k].zero, p[k].one
			w.c.unwind(p, depth, k)
			return b, depth - 1
		}
	}
	return b, depth
}
