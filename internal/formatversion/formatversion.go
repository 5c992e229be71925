// Package formatversion words the error for data written in a format
// version above the highest this build reads: a model file, a knowledge
// base, a store dump or a store's registry layout that a later tabforge
// wrote. Such data is refused rather than read by rules it was not
// written for, and every kind says so in the same words, so that a user
// who ran an older binary on newer files is told to upgrade instead of
// being told the file is corrupt.
//
// Writers keep that promise by the version they write: raise a format's
// version when it gains anything an older reader would misread or not
// know (a field that changes results, a new name in a closed set such
// as a model family), and where it can be done per file, write the
// raised version only into data that uses it, so that older readers
// keep reading the rest (pipeline's predictor layout does so for model
// families, feature steps and target transforms). A reader may then
// call a name it does not know, in a version it reads, corrupt.
package formatversion

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// ErrNewer is wrapped by every error Check returns for a version above
// the highest known.
var ErrNewer = errors.New("written by a newer tabforge")

// Check returns nil when version is one this build reads (min to max),
// an error wrapping ErrNewer that says to upgrade when it is above max,
// and a plain error below min. what names the format, e.g. "model file".
func Check(what string, version, min, max int) error {
	switch {
	case version > max:
		return fmt.Errorf("%s format version %d, %w (this build reads %s): upgrade tabforge to read it", what, version, ErrNewer, span(min, max))
	case version < min:
		return fmt.Errorf("%s format version %d is not one this build reads (%s)", what, version, span(min, max))
	}
	return nil
}

// span says which versions are read: "version 1" or "versions 1 to 3".
func span(min, max int) string {
	if min == max {
		return fmt.Sprintf("version %d", max)
	}
	return fmt.Sprintf("versions %d to %d", min, max)
}

// CheckTag is Check for a format named by a tag rather than a number:
// a tag of prefix followed by a version number (and, in a fixed-width
// magic, padding NUL bytes), such as "TFtree2\x00" or
// "tabforge.linear/v1". It returns Check's error for a number above max,
// and nil for any other tag, known or foreign, which the caller tells
// apart itself.
func CheckTag(what, tag, prefix string, max int) error {
	rest, ok := strings.CutPrefix(tag, prefix)
	if !ok {
		return nil
	}
	n, err := strconv.Atoi(strings.TrimRight(rest, "\x00"))
	if err != nil || n <= max {
		return nil
	}
	return Check(what, n, 1, max)
}
