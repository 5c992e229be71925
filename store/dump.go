package store

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"time"

	"github.com/tabforge/tabforge/internal/formatversion"
	"github.com/tabforge/tabforge/tune"
)

// The dump format is JSON lines: a header, then one line per run, record,
// study and trial, in a fixed order (runs newest first, records by kind
// and key, studies by name, trials by number), then (from version 2) an
// end line with the counts of each. Store-local integer ids are left out,
// so a dump means the same in every store, and two stores holding the
// same data give the same bytes. The end line is what tells a whole dump
// from one cut short between two lines, which would otherwise read as a
// smaller, valid one.
const (
	dumpFormat  = "tabforge-store"
	dumpVersion = 2
)

type dumpLine struct {
	Type    string     `json:"type"`
	Format  string     `json:"format,omitempty"`
	Version int        `json:"version,omitempty"`
	Run     *Run       `json:"run,omitempty"`
	Record  *Record    `json:"record,omitempty"`
	Study   *Study     `json:"study,omitempty"`
	InStudy string     `json:"in_study,omitempty"`
	Trial   *dumpTrial `json:"trial,omitempty"`
	// Counts, on the end line, are how many lines of each type precede it.
	Counts *DumpCounts `json:"counts,omitempty"`
}

// dumpTrial is tune.FrozenTrial without its store id, with floats that
// survive JSON (NaN and infinities become strings).
type dumpTrial struct {
	Number        int                          `json:"number"`
	State         tune.State                   `json:"state"`
	Value         jfloat                       `json:"value"`
	Params        map[string]jfloat            `json:"params,omitempty"`
	Distributions map[string]tune.Distribution `json:"distributions,omitempty"`
	Intermediate  map[int]jfloat               `json:"intermediate,omitempty"`
	RetryOf       int                          `json:"retry_of"`
	Error         string                       `json:"error,omitempty"`
	Start         time.Time                    `json:"start,omitzero"`
	Finish        time.Time                    `json:"finish,omitzero"`
}

// jfloat is a float64 whose JSON form may be "NaN", "+Inf" or "-Inf".
type jfloat float64

func (f jfloat) MarshalJSON() ([]byte, error) {
	v := float64(f)
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return []byte(strconv.Quote(strconv.FormatFloat(v, 'g', -1, 64))), nil
	}
	return []byte(strconv.FormatFloat(v, 'g', -1, 64)), nil
}

func (f *jfloat) UnmarshalJSON(b []byte) error {
	s := string(b)
	if u, err := strconv.Unquote(s); err == nil {
		s = u
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return fmt.Errorf("bad number %s", b)
	}
	*f = jfloat(v)
	return nil
}

func toDump(t tune.FrozenTrial) *dumpTrial {
	d := &dumpTrial{Number: t.Number, State: t.State, Value: jfloat(t.Value), Distributions: t.Distributions,
		RetryOf: t.RetryOf, Error: t.Error, Start: t.Start.UTC(), Finish: t.Finish.UTC()}
	if t.Start.IsZero() {
		d.Start = time.Time{}
	}
	if t.Finish.IsZero() {
		d.Finish = time.Time{}
	}
	if len(t.Params) > 0 {
		d.Params = map[string]jfloat{}
		for k, v := range t.Params {
			d.Params[k] = jfloat(v)
		}
	}
	if len(t.Intermediate) > 0 {
		d.Intermediate = map[int]jfloat{}
		for k, v := range t.Intermediate {
			d.Intermediate[k] = jfloat(v)
		}
	}
	if len(d.Distributions) == 0 {
		d.Distributions = nil
	}
	return d
}

func (d *dumpTrial) frozen() tune.FrozenTrial {
	t := tune.FrozenTrial{Number: d.Number, State: d.State, Value: float64(d.Value), Distributions: d.Distributions,
		RetryOf: d.RetryOf, Error: d.Error, Start: d.Start, Finish: d.Finish,
		Params: map[string]float64{}, Intermediate: map[int]float64{}}
	for k, v := range d.Params {
		t.Params[k] = float64(v)
	}
	for k, v := range d.Intermediate {
		t.Intermediate[k] = float64(v)
	}
	if t.Distributions == nil {
		t.Distributions = map[string]tune.Distribution{}
	}
	return t
}

// DumpCounts says how much an Export or Import moved.
type DumpCounts struct {
	Runs    int `json:"runs"`
	Records int `json:"records"`
	Studies int `json:"studies"`
	Trials  int `json:"trials"`
}

// Export writes everything s holds (runs, records of every kind, studies
// and trials) to w as JSON lines. Cache records are included only if
// withCache is set, since they can be recomputed. It reads one moment of
// s (Store.Snapshot), so a dump taken while others write is still whole:
// no name in it points at a version it lacks.
func Export(ctx context.Context, s Store, w io.Writer, withCache bool) (DumpCounts, error) {
	var n DumpCounts
	bw := bufio.NewWriter(w)
	enc := json.NewEncoder(bw)
	if err := enc.Encode(dumpLine{Type: "header", Format: dumpFormat, Version: dumpVersion}); err != nil {
		return n, fmt.Errorf("export: %w", err)
	}
	err := s.Snapshot(ctx, func(v View) error {
		if err := exportRuns(ctx, v, enc, &n); err != nil {
			return err
		}
		if err := exportRecords(ctx, v, enc, &n, withCache); err != nil {
			return err
		}
		return exportStudies(ctx, v, enc, &n)
	})
	if err != nil {
		return n, err
	}
	if err := enc.Encode(dumpLine{Type: "end", Counts: &n}); err != nil {
		return n, fmt.Errorf("export: %w", err)
	}
	if err := bw.Flush(); err != nil {
		return n, fmt.Errorf("export: %w", err)
	}
	return n, nil
}

func exportRuns(ctx context.Context, v View, enc *json.Encoder, n *DumpCounts) error {
	runs, err := v.ListRuns(ctx, 0)
	if err != nil {
		return fmt.Errorf("export: %w", err)
	}
	for _, r := range runs {
		if err := enc.Encode(dumpLine{Type: "run", Run: r}); err != nil {
			return fmt.Errorf("export run %s: %w", r.ID, err)
		}
		n.Runs++
	}
	return nil
}

func exportRecords(ctx context.Context, v View, enc *json.Encoder, n *DumpCounts, withCache bool) error {
	kinds, err := v.Kinds(ctx)
	if err != nil {
		return fmt.Errorf("export: %w", err)
	}
	for _, k := range kinds {
		if k == CacheKind && !withCache {
			continue
		}
		recs, err := v.ListRecords(ctx, k, "")
		if err != nil {
			return fmt.Errorf("export: %w", err)
		}
		for _, r := range recs {
			if err := enc.Encode(dumpLine{Type: "record", Record: r}); err != nil {
				return fmt.Errorf("export record %s/%s: %w", r.Kind, r.Key, err)
			}
			n.Records++
		}
	}
	return nil
}

func exportStudies(ctx context.Context, v View, enc *json.Encoder, n *DumpCounts) error {
	studies, err := v.ListStudies(ctx)
	if err != nil {
		return fmt.Errorf("export: %w", err)
	}
	for _, st := range studies {
		trials, err := v.Trials(ctx, st.ID)
		if err != nil {
			return fmt.Errorf("export study %q: %w", st.Name, err)
		}
		st.ID = 0
		if err := enc.Encode(dumpLine{Type: "study", Study: &st}); err != nil {
			return fmt.Errorf("export study %q: %w", st.Name, err)
		}
		n.Studies++
		for _, t := range trials {
			if err := enc.Encode(dumpLine{Type: "trial", InStudy: st.Name, Trial: toDump(t)}); err != nil {
				return fmt.Errorf("export trial %d of %q: %w", t.Number, st.Name, err)
			}
			n.Trials++
		}
	}
	return nil
}

// Import reads a dump Export wrote and writes it into s. Every line
// replaces what s holds under the same key (run id, record kind and key,
// study name, study and trial number), so importing twice changes
// nothing, and importing into an empty store reproduces the exported one.
// The whole dump is read (into memory) and checked before anything is
// written: a dump with a malformed line, or one cut short (within a line,
// or, from version 2, anywhere before its end line), leaves s as it was;
// version 1 dumps, which have no end line, are still read. Should the store fail part way, importing the same dump
// again completes it. Import checks no record's value; see ImportWith.
func Import(ctx context.Context, s Store, r io.Reader) (DumpCounts, error) {
	return ImportWith(ctx, s, r, ImportOptions{})
}

// ImportOptions are what ImportWith checks beyond the dump's form.
type ImportOptions struct {
	// Check, if not nil, is called on every record of the dump before
	// anything is written; an error refuses the whole dump, naming the
	// record's line. The store knows nothing of what its records mean, so
	// the kinds' owners check them: tabforge passes registry.CheckRecord,
	// so that one registry record the registry cannot read is refused at
	// import rather than found later by every command that lists models.
	Check func(*Record) error
}

// ImportWith is Import with checks of the records' values.
func ImportWith(ctx context.Context, s Store, r io.Reader, o ImportOptions) (DumpCounts, error) {
	lines, err := readDump(r)
	if err != nil {
		return DumpCounts{}, err
	}
	if err := checkRecords(lines, o.Check); err != nil {
		return DumpCounts{}, err
	}
	if err := checkStudies(ctx, s, lines); err != nil {
		return DumpCounts{}, err
	}
	var n DumpCounts
	var batch []*Record
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		err := s.PutRecords(ctx, batch)
		n.Records += len(batch)
		batch = batch[:0]
		return err
	}
	for _, l := range lines {
		var err error
		switch l.Type {
		case "run":
			err = s.PutRun(ctx, l.Run)
			n.Runs++
		case "record":
			batch = append(batch, l.Record)
			if len(batch) >= 500 {
				err = flush()
			}
		case "study":
			if err = flush(); err == nil {
				_, err = s.PutStudy(ctx, *l.Study)
			}
			n.Studies++
		case "trial":
			err = s.PutTrial(ctx, l.InStudy, l.Trial.frozen())
			n.Trials++
		}
		if err != nil {
			return n, fmt.Errorf("import line %d: %w", l.line, err)
		}
	}
	if err := flush(); err != nil {
		return n, fmt.Errorf("import: %w", err)
	}
	return n, nil
}

// numberedLine is a dump line and its line number.
type numberedLine struct {
	dumpLine
	line int
}

// checkRecords runs check on every record line.
func checkRecords(lines []numberedLine, check func(*Record) error) error {
	if check == nil {
		return nil
	}
	for _, l := range lines {
		if l.Record == nil {
			continue
		}
		if err := check(l.Record); err != nil {
			return fmt.Errorf("import line %d: record %s/%s: %w (nothing imported)", l.line, l.Record.Kind, l.Record.Key, err)
		}
	}
	return nil
}

// checkStudies refuses, before anything is written, a dump whose trials
// belong to a study neither it nor s holds, or whose study exists in s
// with the other direction: either write would fail half-way.
func checkStudies(ctx context.Context, s Store, lines []numberedLine) error {
	have, err := s.ListStudies(ctx)
	if err != nil {
		return fmt.Errorf("import: %w", err)
	}
	dir := map[string]tune.Direction{}
	for _, st := range have {
		dir[st.Name] = st.Direction
	}
	for _, l := range lines {
		switch {
		case l.Study != nil:
			if d, ok := dir[l.Study.Name]; ok && d != l.Study.Direction {
				return fmt.Errorf("import line %d: study %q is to %s here, the dump's to %s (nothing imported)", l.line, l.Study.Name, d, l.Study.Direction)
			}
			dir[l.Study.Name] = l.Study.Direction
		case l.Trial != nil:
			if _, ok := dir[l.InStudy]; !ok {
				return fmt.Errorf("import line %d: trial of study %q, which neither the dump (before it) nor the store holds (nothing imported)", l.line, l.InStudy)
			}
		}
	}
	return nil
}

// check refuses entities no store write makes: a run without an id or
// with one that is not a plain name (runs are listed, removed and given
// directories by id), a record without a kind, a study without a name.
func (l dumpLine) check() error {
	switch {
	case l.Run != nil:
		if err := CheckRunID(l.Run.ID); err != nil {
			return err
		}
		// Every run has its config, and Export cannot write a run
		// without one (an empty json.RawMessage does not marshal).
		if len(l.Run.Config) == 0 {
			return fmt.Errorf("run %s has no config", l.Run.ID)
		}
	case l.Record != nil && l.Record.Kind == "":
		return fmt.Errorf("record %q has no kind", l.Record.Key)
	case l.Record != nil && l.Record.Updated.IsZero():
		// Export always writes it; PutRecords would stamp a zero one with
		// the time of each import, so importing twice would change the
		// store.
		return fmt.Errorf("record %s/%s has no updated time", l.Record.Kind, l.Record.Key)
	case l.Study != nil && l.Study.Name == "":
		return errors.New("study has no name")
	case l.Trial != nil && l.InStudy == "":
		return errors.New("trial names no study")
	case l.Trial != nil:
		return l.Trial.checkParams()
	}
	return nil
}

// checkParams refuses a trial parameter without a valid distribution
// holding its value, which no tuning run stores: read back, a choice
// index past a categorical's choices panicked the study page and the
// sampler of a resumed study.
func (d *dumpTrial) checkParams() error {
	for name, v := range d.Params {
		dist, ok := d.Distributions[name]
		if !ok {
			return fmt.Errorf("trial %d: parameter %q has no distribution", d.Number, name)
		}
		if err := dist.Validate(); err != nil {
			return fmt.Errorf("trial %d: parameter %q: %w", d.Number, name, err)
		}
		if !dist.Contains(float64(v)) {
			return fmt.Errorf("trial %d: parameter %q: value %v is not in %+v", d.Number, name, float64(v), dist)
		}
	}
	return nil
}

// CheckRunID refuses a run id that is empty, longer than 128 bytes, or
// holds anything but letters, digits, '-', '_' and '.' (and is not "."
// or ".."): ids name directories and are typed on command lines.
func CheckRunID(id string) error {
	if id == "" || len(id) > 128 || id == "." || id == ".." {
		return fmt.Errorf("run id %q: want 1 to 128 letters, digits, '-', '_' or '.'", id)
	}
	for _, r := range id {
		if !(r == '-' || r == '_' || r == '.' || ('0' <= r && r <= '9') || ('a' <= r && r <= 'z') || ('A' <= r && r <= 'Z')) {
			return fmt.Errorf("run id %q: want 1 to 128 letters, digits, '-', '_' or '.'", id)
		}
	}
	return nil
}

// readDump reads and checks a whole dump: its header, then lines each
// of a known type with its entity (see dumpLine.check), then, from
// version 2, the end line, whose counts must match the lines before it.
func readDump(r io.Reader) ([]numberedLine, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 1<<20), 1<<30)
	var lines []numberedLine
	var got DumpCounts
	line, version, end := 0, 0, 0
	for sc.Scan() {
		line++
		if len(sc.Bytes()) == 0 {
			continue
		}
		var l dumpLine
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			return nil, fmt.Errorf("import line %d: %w (nothing imported)", line, err)
		}
		switch {
		case end > 0:
			return nil, fmt.Errorf("import line %d: a line after the dump's end (line %d); are two dumps joined? (nothing imported)", line, end)
		case version == 0:
			v, err := readHeader(l)
			if err != nil {
				return nil, err
			}
			version = v
			continue
		case l.Type == "end" && version >= 2:
			if l.Counts == nil || *l.Counts != got {
				return nil, fmt.Errorf("import line %d: the end line counts %s, but the dump holds %s (nothing imported)", line, l.Counts, &got)
			}
			end = line
			continue
		}
		known := (l.Type == "run" && l.Run != nil) || (l.Type == "record" && l.Record != nil) ||
			(l.Type == "study" && l.Study != nil) || (l.Type == "trial" && l.Trial != nil)
		if !known {
			return nil, fmt.Errorf("import line %d: unknown line type %q or no entity (nothing imported)", line, l.Type)
		}
		if err := l.check(); err != nil {
			return nil, fmt.Errorf("import line %d: %w (nothing imported)", line, err)
		}
		got.add(l.Type)
		lines = append(lines, numberedLine{l, line})
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("import line %d: %w (nothing imported)", line+1, err)
	}
	switch {
	case version == 0:
		return nil, fmt.Errorf("import: empty dump")
	case version >= 2 && end == 0:
		return nil, fmt.Errorf("import: the dump ends at line %d without its end line: it was cut short (nothing imported)", line)
	}
	return lines, nil
}

// readHeader checks a dump's first line and returns its version.
func readHeader(l dumpLine) (int, error) {
	if l.Type != "header" || l.Format != dumpFormat {
		return 0, fmt.Errorf("import: not a tabforge store dump (its first line is not a %s header)", dumpFormat)
	}
	if err := formatversion.Check("store dump", l.Version, 1, dumpVersion); err != nil {
		return 0, fmt.Errorf("import: %w (nothing imported)", err)
	}
	return l.Version, nil
}

// String says the counts as export and import print them.
func (n *DumpCounts) String() string {
	if n == nil {
		return "nothing"
	}
	return fmt.Sprintf("%d runs, %d records, %d studies, %d trials", n.Runs, n.Records, n.Studies, n.Trials)
}

// add counts one line of type typ.
func (n *DumpCounts) add(typ string) {
	switch typ {
	case "run":
		n.Runs++
	case "record":
		n.Records++
	case "study":
		n.Studies++
	case "trial":
		n.Trials++
	}
}
