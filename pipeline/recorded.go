package pipeline

import (
	"github.com/tabforge/tabforge/frame"
)

// ReadRecorded reads the data file at path with opts, as frame.ReadFile
// does, for a caller that checks it against hash, the content hash
// (frame.Frame.Hash) a run recorded of it: analysis, resume, a worker's
// unit, a retrain's "no new data". When the file does not hash to hash
// but read as tabforge read text before it accepted timestamps without
// seconds and year-first slash dates (frame.ReadOptions.LegacyDatetimes)
// it does, that reading is returned: the run saw such a column as text,
// and its models were trained on text, so the file has not changed.
// Otherwise, or when hash is "" (none recorded), the first reading is
// returned, for the caller to compare.
func ReadRecorded(path string, opts frame.ReadOptions, hash string) (*frame.Frame, error) {
	f, err := frame.ReadFile(path, opts)
	if err != nil || hash == "" || f.Hash() == hash || !readDatetimes(f, opts) {
		return f, err
	}
	opts.LegacyDatetimes = true
	old, err := frame.ReadFile(path, opts)
	if err != nil || old.Hash() != hash {
		return f, nil
	}
	return old, nil
}

// readDatetimes reports whether f, read with opts, has a datetime column
// that opts.Schema does not force: one the legacy reading may read as
// text. Other data reads the same either way, so is not read twice.
func readDatetimes(f *frame.Frame, opts frame.ReadOptions) bool {
	for _, c := range f.Columns() {
		if _, forced := opts.Schema[c.Name]; c.Kind == frame.Datetime && !forced {
			return true
		}
	}
	return false
}
