package frame

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"io"
)

// sniffSample is how much of a CSV file DetectComma looks at.
const sniffSample = 64 << 10

// separators are the field separators DetectComma chooses between, in
// order of preference when several fit equally well.
var separators = [...]rune{',', ';', '\t', '|'}

// separatorChars holds the separators as one string, for strings.ContainsAny.
var separatorChars = string(separators[:])

// DetectComma guesses the field separator of the CSV text buffered in br
// without consuming it: the candidate that splits every complete line of
// the sample into the same number of fields, more than one, and the most
// fields when several do (quotes respected, as the reader will). Text
// that no candidate splits consistently (one column, say) is read with a
// comma, so the reader reports what is wrong with it.
func DetectComma(br *bufio.Reader) rune {
	sample, err := br.Peek(sniffSample)
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, bufio.ErrBufferFull) {
		return ','
	}
	// Short of the end of the text (the sample's size, or br's buffer if
	// smaller), the last line is cut: keep whole lines only.
	if err == nil || errors.Is(err, bufio.ErrBufferFull) {
		if i := bytes.LastIndexByte(sample, '\n'); i > 0 {
			sample = sample[:i+1]
		}
	}
	best, bestFields := ',', 1
	for _, c := range separators {
		if n := consistentFields(sample, c); n > bestFields {
			best, bestFields = c, n
		}
	}
	return best
}

// consistentFields returns the field count every record of sample has
// when split on comma, or 0 when records disagree or the text does not
// parse.
func consistentFields(sample []byte, comma rune) int {
	r := csv.NewReader(bytes.NewReader(sample))
	r.Comma = comma
	r.FieldsPerRecord = -1
	r.ReuseRecord = true
	n, records := 0, 0
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return 0
		}
		if records > 0 && len(rec) != n {
			return 0
		}
		n = len(rec)
		records++
	}
	return n
}
