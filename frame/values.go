package frame

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// numResult classifies a text value as a number.
type numResult uint8

const (
	notNumber numResult = iota
	finiteNumber
	infiniteNumber
)

// parseNumber parses s as a decimal number. Hexadecimal floats and digit
// separators, which strconv.ParseFloat also accepts, are rejected so that
// identifiers such as "0x1p3" or "1_000" stay text. Values that are ±Inf or
// overflow float64 are reported as infiniteNumber.
func parseNumber(s string) (float64, numResult) {
	if v, ok := parseSmallInt(s); ok {
		return v, finiteNumber
	}
	if s == "" || strings.ContainsAny(s, "xX_") {
		return 0, notNumber
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		if errors.Is(err, strconv.ErrRange) && math.IsInf(v, 0) {
			return v, infiniteNumber
		}
		return 0, notNumber
	}
	if math.IsInf(v, 0) {
		return v, infiniteNumber
	}
	return v, finiteNumber
}

// parseSmallInt is parseNumber's fast path for the commonest cells,
// integers of at most 15 digits with an optional sign: they are exact in
// a float64, so the result is what strconv.ParseFloat returns (-0 too).
func parseSmallInt(s string) (float64, bool) {
	neg := false
	if len(s) > 0 && (s[0] == '-' || s[0] == '+') {
		neg, s = s[0] == '-', s[1:]
	}
	if len(s) == 0 || len(s) > 15 {
		return 0, false
	}
	var n int64
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	v := float64(n)
	if neg {
		v = -v
	}
	return v, true
}

// Layouts accepted for datetime text, besides RFC 3339.
const (
	layoutDate       = "2006-01-02"
	layoutDateTime   = "2006-01-02T15:04:05"
	layoutDateTimeSp = "2006-01-02 15:04:05"
	// layoutRFC3339Sp is RFC 3339 with a space for the T, which the RFC
	// allows (section 5.6) and pandas writes for zone-aware timestamps.
	layoutRFC3339Sp = "2006-01-02 15:04:05Z07:00"
	// Minute resolution, which ISO 8601 allows (seconds are optional)
	// and spreadsheets, loggers and pandas' to_datetime write and read:
	// 2019-01-01 13:45, 2019-01-01T13:45, 2019-01-01T13:45+01:00.
	layoutMinute     = "2006-01-02T15:04"
	layoutMinuteSp   = "2006-01-02 15:04"
	layoutMinuteZone = "2006-01-02T15:04Z07:00"
	layoutMinuteSpZ  = "2006-01-02 15:04Z07:00"
	// Year first with slashes (2019/01/31, 2019/01/31 13:45:00), as
	// Japanese and Chinese locales and many exports write dates. Year
	// first is always year, month, day, so unlike 01/02/2019 (January or
	// February by locale; see DateText) it has one reading.
	layoutSlashDate   = "2006/01/02"
	layoutSlashMinute = "2006/01/02 15:04"
	layoutSlashSecond = "2006/01/02 15:04:05"
)

// ParseNumber reports whether the CSV reader reads s as a finite number,
// and its value. Callers use it to read a text the way a numeric column
// would hold it, such as a class label "1.0" that a numeric target column
// read as 1.
func ParseNumber(s string) (float64, bool) {
	v, res := parseNumber(s)
	return v, res == finiteNumber
}

// ParseDatetime reports whether the CSV reader reads s as a datetime, and
// its Unix seconds: a date (2006-01-02 or 2006/01/02), an RFC 3339
// timestamp (with a T or a space before the time, seconds optional), or a
// zone-less timestamp read as UTC. Callers use it to say which value kept
// a column of dates from being read as one.
func ParseDatetime(s string) (float64, bool) { return parseDatetime(s) }

// parseDatetime parses s as a date (2006-01-02 or 2006/01/02), an RFC
// 3339 timestamp (with a T or a space before the time), or a zone-less
// timestamp (2006-01-02T15:04:05, 2006-01-02 15:04:05 or 2006/01/02
// 15:04:05, read as UTC; fractional seconds are accepted), the
// timestamps with or without seconds, and returns Unix seconds.
func parseDatetime(s string) (float64, bool) {
	v, _, ok := parseDatetimeOffset(s)
	return v, ok
}

// parseDatetimeOffset is parseDatetime that also returns the UTC offset s
// was written with, in seconds east (0 for a date, "Z" or no zone).
func parseDatetimeOffset(s string) (float64, int32, bool) {
	return parseDatetimeText(s, false)
}

// parseDatetimeText is parseDatetimeOffset, which with legacy reads only
// what the reader before minute-resolution and slash forms read: a date
// with dashes or a timestamp with seconds (ReadOptions.LegacyDatetimes).
// The older forms are tried first, in the order that reader tried them,
// so that what it read is read the same.
func parseDatetimeText(s string, legacy bool) (float64, int32, bool) {
	if len(s) < 10 || s[7] != s[4] || (s[4] != '-' && s[4] != '/') {
		return 0, 0, false
	}
	t, ok := parseLayouts(s, secondLayouts(s)...)
	if !ok && !legacy {
		t, ok = parseLayouts(s, minuteLayouts(s)...)
	}
	if !ok {
		return 0, 0, false
	}
	_, off := t.Zone()
	return unixFloat(t.Unix(), int64(t.Nanosecond())), int32(off), true
}

// The layouts each shape of text is tried in, as variables so that
// picking them allocates nothing per value.
var (
	layoutsDate      = []string{layoutDate}
	layoutsT         = []string{time.RFC3339, layoutDateTime}
	layoutsSp        = []string{layoutDateTimeSp, layoutRFC3339Sp}
	layoutsSlashDate = []string{layoutSlashDate}
	layoutsSlashTime = []string{layoutSlashSecond, layoutSlashMinute}
	layoutsMinuteT   = []string{layoutMinute, layoutMinuteZone}
	layoutsMinuteSp  = []string{layoutMinuteSp, layoutMinuteSpZ}
)

// secondLayouts returns the layouts of dates with dashes and timestamps
// with seconds that s, of at least 10 bytes, may be written in.
func secondLayouts(s string) []string {
	switch {
	case s[4] != '-':
		return nil
	case len(s) == 10:
		return layoutsDate
	case s[10] == 'T':
		return layoutsT
	case s[10] == ' ':
		return layoutsSp
	}
	return nil
}

// minuteLayouts returns the layouts of timestamps without seconds and of
// year-first slash dates that s, of at least 10 bytes, may be written in.
func minuteLayouts(s string) []string {
	switch {
	case s[4] == '/' && len(s) == 10:
		return layoutsSlashDate
	case s[4] == '/' && s[10] == ' ':
		return layoutsSlashTime
	case s[4] == '/':
		return nil
	case len(s) == 10:
		return nil
	case s[10] == 'T':
		return layoutsMinuteT
	case s[10] == ' ':
		return layoutsMinuteSp
	}
	return nil
}

// parseLayouts parses s in the first of layouts that reads it.
func parseLayouts(s string, layouts ...string) (time.Time, bool) {
	for _, l := range layouts {
		if t, err := time.Parse(l, s); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

// unixFloat converts seconds and nanoseconds (0 <= nsec < 1e9) to the
// float64 Unix seconds that Datetime columns hold. Every reader goes
// through it, so the same instant gives the same bits whatever the source.
func unixFloat(sec, nsec int64) float64 {
	if nsec == 0 {
		return float64(sec)
	}
	return float64(sec) + float64(nsec)/1e9
}

// Range of datetimes, in Unix seconds, that can be written as RFC 3339
// text: years 0 to 9999.
const (
	MinUnix = -62167219200 // 0000-01-01T00:00:00Z
	MaxUnix = 253402300799 // 9999-12-31T23:59:59Z
)

// splitUnix is the inverse of unixFloat: it splits finite Unix seconds v
// into whole seconds and nanoseconds such that unixFloat(sec, nsec) == v
// for every v that unixFloat produced.
func splitUnix(v float64) (sec, nsec int64, err error) {
	if math.IsNaN(v) || v < MinUnix || v >= MaxUnix+1 {
		return 0, 0, fmt.Errorf("datetime %v is outside years 0 to 9999", v)
	}
	sec, nsec = splitFinite(v)
	return sec, nsec, nil
}

// splitFinite is splitUnix without the range check, for v within int64
// seconds.
func splitFinite(v float64) (sec, nsec int64) {
	s := math.Floor(v)
	n := math.Round((v - s) * 1e9)
	if n >= 1e9 {
		s++
		n -= 1e9
	}
	return int64(s), int64(n)
}

// appendDatetime appends v, written with UTC offset off (seconds east), as
// text: "2006-01-02" for a midnight UTC, else RFC 3339 in that offset with
// as many fractional digits as needed, so parseDatetimeOffset gives back v
// and off. The civil time written must lie in years 0 to 9999.
func appendDatetime(b []byte, v float64, off int32) ([]byte, error) {
	if off == 0 {
		sec, nsec, err := splitUnix(v)
		if err != nil {
			return b, err
		}
		t := time.Unix(sec, nsec).UTC()
		if nsec == 0 && sec%86400 == 0 {
			return t.AppendFormat(b, layoutDate), nil
		}
		return t.AppendFormat(b, time.RFC3339Nano), nil
	}
	// The range is that of the text, the civil time, which parsing
	// accepts even when the offset moves the instant just past it; v
	// itself is split, as v+off may round.
	if _, _, err := splitUnix(v + float64(off)); err != nil {
		return b, err
	}
	sec, nsec := splitFinite(v)
	t := time.Unix(sec, nsec).In(time.FixedZone("", int(off)))
	return t.AppendFormat(b, time.RFC3339Nano), nil
}

// appendNumber appends v in the shortest form that parses back to the same
// float64.
func appendNumber(b []byte, v float64) []byte {
	return strconv.AppendFloat(b, v, 'g', -1, 64)
}

// NumberLabel is the text a number stands as when it labels a category or
// class (a numeric class target's classes, drift's count per value): a
// whole number is written in digits, without an exponent (class code
// 1000000 is "1000000", as the data has it, not Go's shortest %g "1e+06"),
// up to 1e21; any other value in its shortest %g form ("2.5").
func NumberLabel(v float64) string {
	if v == math.Trunc(v) && math.Abs(v) < 1e21 {
		return strconv.FormatFloat(v, 'f', -1, 64)
	}
	return strconv.FormatFloat(v, 'g', -1, 64)
}
