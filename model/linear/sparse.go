package linear

import "github.com/tabforge/tabforge/model"

// csr is a row-compressed copy of a mostly-zero design matrix (indicator
// and one-hot columns, counts): the logistic objective's passes then cost
// its nonzeros instead of rows × columns.
type csr struct {
	start []int // row i's entries are start[i]:start[i+1]
	col   []int32
	val   []float64
}

// maxSparseDensity is the largest share of nonzeros at which the
// row-compressed copy pays: an entry costs an index load besides the
// multiply-add, and the dense dot product runs unrolled.
const maxSparseDensity = 0.1

// sparseRows returns x row-compressed when at most maxSparseDensity of its
// entries are nonzero, else nil.
func sparseRows(x *model.Matrix) *csr {
	nnz := 0
	for _, v := range x.Data {
		if v != 0 {
			nnz++
		}
	}
	if float64(nnz) > maxSparseDensity*float64(len(x.Data)) {
		return nil
	}
	s := &csr{start: make([]int, x.Rows+1), col: make([]int32, 0, nnz), val: make([]float64, 0, nnz)}
	p := x.Cols
	for i := range x.Rows {
		for j, v := range x.Data[i*p : (i+1)*p] {
			if v != 0 {
				s.col = append(s.col, int32(j))
				s.val = append(s.val, v)
			}
		}
		s.start[i+1] = len(s.col)
	}
	return s
}

// scores sets z[r*k+c] = Σⱼ x_ij·w[c*p+j] for the rows lo+r of a block of
// nb rows.
func (s *csr) scores(z, w []float64, lo, nb, k, p int) {
	for r := range nb {
		a, b := s.start[lo+r], s.start[lo+r+1]
		cols, vals := s.col[a:b], s.val[a:b]
		if k == 1 {
			t := 0.0
			for e, j := range cols {
				t += vals[e] * w[j]
			}
			z[r] = t
			continue
		}
		zr := z[r*k : (r+1)*k]
		clear(zr)
		for e, j := range cols {
			v := vals[e]
			for c := range k {
				zr[c] += v * w[c*p+int(j)]
			}
		}
	}
}

// addGradient adds Σᵣ z[r*k+c]·x_ij to g[c*p+j] for the rows lo+r of a
// block of nb rows.
func (s *csr) addGradient(g, z []float64, lo, nb, k, p int) {
	for r := range nb {
		a, b := s.start[lo+r], s.start[lo+r+1]
		cols, vals := s.col[a:b], s.val[a:b]
		zr := z[r*k : (r+1)*k]
		for e, j := range cols {
			v := vals[e]
			for c, rc := range zr {
				g[c*p+int(j)] += rc * v
			}
		}
	}
}
