package config

import (
	"fmt"
	"slices"
	"strings"
)

// KeyError is a bad value of one key: a value of the wrong type, out of
// range, or not one of the allowed values. Load fills Origin.
type KeyError struct {
	// Key is the config key.
	Key string
	// Origin is where the value came from; the zero Origin if unknown.
	Origin Origin
	// Err says what is wrong with the value.
	Err error
}

// Error returns "key: message", followed by the origin when known, e.g.
// `max_evals: "abc" is not an integer (set by flag:--set)`.
func (e *KeyError) Error() string {
	msg := e.Key + ": " + e.Err.Error()
	if e.Origin.Kind != FromDefault {
		msg += " (set by " + e.Origin.String() + ")"
	}
	return msg
}

// Unwrap returns the underlying error.
func (e *KeyError) Unwrap() error { return e.Err }

// UnknownKeyError reports a key that Config does not have, with the closest
// known key as a suggestion when one is close enough.
type UnknownKeyError struct {
	// Key is the key as written: a config key, or for the environment the
	// variable name.
	Key string
	// Origin is where the key was written.
	Origin Origin
	// Suggestion is the closest known key (in the same form as Key); "" if
	// none is close.
	Suggestion string
}

// Error returns e.g. `unknown key "max_eval" in file:run.yaml:3; did you
// mean max_evals?`, or for the environment `unknown environment variable
// TABFORGE_SEEDS; did you mean TABFORGE_SEED?`.
func (e *UnknownKeyError) Error() string {
	var b strings.Builder
	if e.Origin.Kind == FromEnv {
		fmt.Fprintf(&b, "unknown environment variable %s", e.Key)
	} else {
		fmt.Fprintf(&b, "unknown key %q", e.Key)
	}
	if e.Origin.Kind != FromDefault && e.Origin.Kind != FromEnv {
		b.WriteString(" in " + e.Origin.String())
	}
	if e.Suggestion != "" {
		b.WriteString("; did you mean " + e.Suggestion + "?")
	} else {
		b.WriteString("; `tabforge config show` lists the keys")
	}
	return b.String()
}

// errorList joins errors on one line, separated by "; ", so the CLI can
// print any config error as a single line. errors.As and errors.Is see
// every element.
type errorList []error

func (l errorList) Error() string {
	parts := make([]string, len(l))
	for i, err := range l {
		parts[i] = err.Error()
	}
	return strings.Join(parts, "; ")
}

func (l errorList) Unwrap() []error { return l }

// join returns nil for no errors, the error itself for one, and an
// errorList otherwise.
func join(errs []error) error {
	switch len(errs) {
	case 0:
		return nil
	case 1:
		return errs[0]
	}
	return errorList(errs)
}

// notOneOf formats the message for a value outside an enumeration.
func notOneOf(v string, allowed []string) error {
	return fmt.Errorf("%q is not one of %s", v, strings.Join(allowed, ", "))
}

// Closest returns the name in names closest to s, ignoring case, or ""
// if none is close enough to be what s was meant to be, by the rule
// that suggests keys for misspelt ones: for a "did you mean" hint on a
// column a config names and the data lacks.
func Closest(s string, names []string) string {
	lower := make([]string, len(names))
	for i, n := range names {
		lower[i] = strings.ToLower(n)
	}
	if i := slices.Index(lower, suggest(s, lower)); i >= 0 && names[i] != s {
		return names[i]
	}
	return ""
}

// suggest returns the candidate closest to s by edit distance, or "" if
// none is close: at most a third of s's length in edits (at least 1), or
// for s of 4 or more letters, one containing the other.
func suggest(s string, candidates []string) string {
	s = strings.ToLower(s)
	best, bestD := "", -1
	for _, c := range candidates {
		d := editDistance(s, c)
		if bestD < 0 || d < bestD {
			best, bestD = c, d
		}
	}
	limit := max(1, len(s)/3)
	if bestD >= 0 && bestD <= limit {
		return best
	}
	if len(s) >= 4 {
		for _, c := range candidates {
			if strings.Contains(c, s) || strings.Contains(s, c) {
				return c
			}
		}
	}
	return ""
}

// editDistance is the optimal-string-alignment distance between a and b,
// in bytes: insertions, deletions, substitutions and swaps of adjacent
// bytes each cost 1, so "gbtd" is one edit from "gbdt".
func editDistance(a, b string) int {
	d := make([][]int, len(a)+1)
	for i := range d {
		d[i] = make([]int, len(b)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(a); i++ {
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(a)][len(b)]
}

// keyErrors returns the *KeyError elements of err (itself, or those of an
// errorList), so Load can attach origins.
func keyErrors(err error) []*KeyError {
	var out []*KeyError
	if list, ok := err.(errorList); ok {
		for _, e := range list {
			out = append(out, keyErrors(e)...)
		}
		return out
	}
	if ke, ok := err.(*KeyError); ok {
		out = append(out, ke)
	}
	return out
}
