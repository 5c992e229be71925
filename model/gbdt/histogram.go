package gbdt

// histBin is one histogram bin: the sums of gradients and hessians of the
// node's rows whose code falls in the bin.
type histBin struct{ g, h float64 }

// histStride is the number of bins reserved per feature in a node
// histogram, so every feature's bins form a [256]histBin that a uint8 code
// indexes without bounds checks.
const histStride = 256

// featHist returns feature f's bins within a node histogram.
func featHist(h []histBin, f int) *[histStride]histBin {
	return (*[histStride]histBin)(h[f*histStride : (f+1)*histStride])
}

// buildHist fills the bins of features feats (at most 4) of histogram h
// from the node's rows and their gradients gh (gh[i] belongs to rows[i],
// gathered once per node so that every feature group reads them
// sequentially). Rows are in increasing order; a run of consecutive rows
// takes a dense path without the index indirection.
func buildHist(h []histBin, bm *binMatrix, feats []int, rows []int32, gh []rowGrad) {
	for _, f := range feats {
		clear(featHist(h, f)[:bm.width(f)])
	}
	if len(rows) == 0 {
		return
	}
	gh = gh[:len(rows)]
	lo := int(rows[0])
	dense := int(rows[len(rows)-1])-lo == len(rows)-1
	for len(feats) > 0 {
		switch {
		case len(feats) >= 4:
			f0, f1, f2, f3 := feats[0], feats[1], feats[2], feats[3]
			h0, h1, h2, h3 := featHist(h, f0), featHist(h, f1), featHist(h, f2), featHist(h, f3)
			c0, c1, c2, c3 := bm.codes[f0], bm.codes[f1], bm.codes[f2], bm.codes[f3]
			if dense {
				hist4Dense(h0, h1, h2, h3, c0[lo:lo+len(rows)], c1[lo:lo+len(rows)], c2[lo:lo+len(rows)], c3[lo:lo+len(rows)], gh)
			} else {
				hist4(h0, h1, h2, h3, c0, c1, c2, c3, rows, gh)
			}
			feats = feats[4:]
		default:
			f := feats[0]
			if dense {
				hist1Dense(featHist(h, f), bm.codes[f][lo:lo+len(rows)], gh)
			} else {
				hist1(featHist(h, f), bm.codes[f], rows, gh)
			}
			feats = feats[1:]
		}
	}
}

// hist4Generic accumulates four features at once: one load of the row
// index and gradient pair feeds four independent bin updates. hist4 is it
// or an assembly kernel with the same sums.
func hist4Generic(h0, h1, h2, h3 *[histStride]histBin, c0, c1, c2, c3 []uint8, rows []int32, gh []rowGrad) {
	gh = gh[:len(rows)]
	// Equal lengths let one bounds check on c0 cover the other columns.
	c1, c2, c3 = c1[:len(c0)], c2[:len(c0)], c3[:len(c0)]
	i := 0
	for ; i+1 < len(rows); i += 2 { // two rows per iteration: more independent work
		r, s := rows[i], rows[i+1]
		p := gpair{float64(gh[i].g), float64(gh[i].h)}
		q := gpair{float64(gh[i+1].g), float64(gh[i+1].h)}
		b0, b1, b2, b3 := c0[r], c1[r], c2[r], c3[r]
		d0, d1, d2, d3 := c0[s], c1[s], c2[s], c3[s]
		h0[b0].g += p.g
		h0[b0].h += p.h
		h1[b1].g += p.g
		h1[b1].h += p.h
		h2[b2].g += p.g
		h2[b2].h += p.h
		h3[b3].g += p.g
		h3[b3].h += p.h
		h0[d0].g += q.g
		h0[d0].h += q.h
		h1[d1].g += q.g
		h1[d1].h += q.h
		h2[d2].g += q.g
		h2[d2].h += q.h
		h3[d3].g += q.g
		h3[d3].h += q.h
	}
	for ; i < len(rows); i++ {
		r := rows[i]
		p := gpair{float64(gh[i].g), float64(gh[i].h)}
		b0, b1, b2, b3 := c0[r], c1[r], c2[r], c3[r]
		h0[b0].g += p.g
		h0[b0].h += p.h
		h1[b1].g += p.g
		h1[b1].h += p.h
		h2[b2].g += p.g
		h2[b2].h += p.h
		h3[b3].g += p.g
		h3[b3].h += p.h
	}
}

func hist4DenseGeneric(h0, h1, h2, h3 *[histStride]histBin, c0, c1, c2, c3 []uint8, gh []rowGrad) {
	n := len(gh)
	c0, c1, c2, c3 = c0[:n], c1[:n], c2[:n], c3[:n]
	for i, q := range gh {
		p := gpair{float64(q.g), float64(q.h)}
		b0, b1, b2, b3 := c0[i], c1[i], c2[i], c3[i]
		h0[b0].g += p.g
		h0[b0].h += p.h
		h1[b1].g += p.g
		h1[b1].h += p.h
		h2[b2].g += p.g
		h2[b2].h += p.h
		h3[b3].g += p.g
		h3[b3].h += p.h
	}
}

func hist1Generic(h0 *[histStride]histBin, c0 []uint8, rows []int32, gh []rowGrad) {
	gh = gh[:len(rows)]
	for i, r := range rows {
		p := gpair{float64(gh[i].g), float64(gh[i].h)}
		b := c0[r]
		h0[b].g += p.g
		h0[b].h += p.h
	}
}

func hist1DenseGeneric(h0 *[histStride]histBin, c0 []uint8, gh []rowGrad) {
	c0 = c0[:len(gh)]
	for i, q := range gh {
		p := gpair{float64(q.g), float64(q.h)}
		b := c0[i]
		h0[b].g += p.g
		h0[b].h += p.h
	}
}

// subtractHist sets the bins of feats in big to big − small: the larger
// child's histogram from its parent's (held in big) and its sibling's.
// Only the bins a feature's codes reach are touched (the rest of a
// pooled histogram is stale and never read).
func subtractHist(big, small []histBin, bm *binMatrix, feats []int) {
	for _, f := range feats {
		w := bm.width(f)
		b, s := featHist(big, f)[:w], featHist(small, f)[:w]
		for i := range b {
			b[i].g -= s[i].g
			b[i].h -= s[i].h
		}
	}
}
