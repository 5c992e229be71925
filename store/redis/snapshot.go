package redis

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	redigo "github.com/gomodule/redigo/redis"

	"github.com/tabforge/tabforge/store"
	"github.com/tabforge/tabforge/tune"
)

// Snapshot implements store.Store. Redis has no read transaction, so one
// script reads every run, record (but the cache's), study and trial: a
// script runs alone on the server, so what it reads is one state. It
// holds other clients off for as long as it reads (measured: half a
// second for 20,000 records of 2 kB; past busy-reply-threshold, 5s by
// default, Redis answers them BUSY), but never has to retry, as a read
// checked afterwards (WATCH) would against writers busier than itself
// (a study's trials, leases renewed every few seconds). Cache records,
// which may be many and large and which nothing refers to, are read when
// f asks for them, outside the script.
func (s *Store) Snapshot(ctx context.Context, f func(store.View) error) error {
	// The connection's read timeout (5s by default) is for single
	// commands; a script reading a large store would outlast it and look
	// like an unreachable server.
	var reply []any
	err := s.with(ctx, func(c redigo.Conn) (err error) {
		reply, err = redigo.Values(redigo.DoWithTimeout(c, snapshotTimeout, "EVAL", snapshotScript, 0, s.p, store.CacheKind))
		return err
	})
	if err != nil {
		return s.wrap("read store "+s.name, err)
	}
	v, err := s.decodeSnapshot(reply)
	if err != nil {
		return fmt.Errorf("read store %s: %w", s.name, err)
	}
	return f(v)
}

// snapshotTimeout bounds the wait for snapshotScript's reply: some
// minutes of reading at the rate measured above.
const snapshotTimeout = 5 * time.Minute

// snapshotScript returns {run ids with scores, {doc, created} of each,
// {kind, {{key, value, updated}...}} of each kind (for the cache kind,
// {kind, its key count}), {name, id, study hash, {{trial id, trial hash,
// params hash, values hash}...}} of each study}. A missing hash field is
// false in Lua, which the reply turns into nil.
const snapshotScript = `
local p, cache = ARGV[1], ARGV[2]
local ids = redis.call('ZRANGE', p .. 'runs', 0, -1, 'WITHSCORES')
local runs = {}
for i = 1, #ids, 2 do
	runs[#runs + 1] = redis.call('HMGET', p .. 'run:' .. ids[i], 'doc', 'created')
end
local recs = {}
for _, kind in ipairs(redis.call('ZRANGE', p .. 'kinds', 0, -1)) do
	if kind == cache then
		recs[#recs + 1] = {kind, redis.call('ZCARD', p .. 'reck:' .. kind)}
	else
		local rows = {}
		for _, key in ipairs(redis.call('ZRANGE', p .. 'reck:' .. kind, 0, -1)) do
			local v = redis.call('HMGET', p .. 'rec:' .. kind .. '\0' .. key, 'v', 'u')
			rows[#rows + 1] = {key, v[1], v[2]}
		end
		recs[#recs + 1] = {kind, rows}
	end
end
local studies = {}
local byName = redis.call('HGETALL', p .. 'studies')
for i = 1, #byName, 2 do
	local sid = byName[i + 1]
	local trials = {}
	local numbers = redis.call('HGETALL', p .. 'trials:' .. sid)
	for j = 2, #numbers, 2 do
		local t = numbers[j]
		trials[#trials + 1] = {t, redis.call('HGETALL', p .. 'trial:' .. t),
			redis.call('HGETALL', p .. 'tparams:' .. t), redis.call('HGETALL', p .. 'tvals:' .. t)}
	end
	studies[#studies + 1] = {byName[i], sid, redis.call('HGETALL', p .. 'study:' .. sid), trials}
end
return {ids, runs, recs, studies}
`

// snapshot is one state of the store, read by snapshotScript.
type snapshot struct {
	s       *Store // reads the cache
	runs    []*store.Run
	kinds   []string
	recs    map[string][]*store.Record
	studies []store.Study
	trials  map[int64][]tune.FrozenTrial
}

func (s *Store) decodeSnapshot(reply []any) (*snapshot, error) {
	if len(reply) != 4 {
		return nil, fmt.Errorf("snapshot script gave %d parts, want 4", len(reply))
	}
	v := &snapshot{s: s, recs: map[string][]*store.Record{}, trials: map[int64][]tune.FrozenTrial{}}
	if err := v.decodeRuns(reply[0], reply[1]); err != nil {
		return nil, err
	}
	if err := v.decodeRecords(reply[2]); err != nil {
		return nil, err
	}
	return v, v.decodeStudies(reply[3])
}

func (v *snapshot) decodeRuns(pairs, docs any) error {
	ps, err := redigo.Strings(pairs, nil)
	if err != nil {
		return err
	}
	ds, err := redigo.Values(docs, nil)
	if err != nil {
		return err
	}
	doc := map[string][][]byte{}
	for i, d := range ds {
		fields, _ := redigo.ByteSlices(d, nil)
		if len(fields) != 2 || 2*i >= len(ps) {
			return fmt.Errorf("snapshot: run %d has %d fields", i, len(fields))
		}
		doc[ps[2*i]] = fields
	}
	for _, id := range newestFirst(ps, 0) {
		d := doc[id]
		if len(d) != 2 || len(d[0]) == 0 {
			continue // an index entry without its run, which loadRuns skips too
		}
		r, err := decodeRun(string(d[0]), string(d[1]))
		if err != nil {
			return fmt.Errorf("run %s: %w", id, err)
		}
		v.runs = append(v.runs, r)
	}
	return nil
}

func (v *snapshot) decodeRecords(reply any) error {
	kinds, err := redigo.Values(reply, nil)
	if err != nil {
		return err
	}
	for _, k := range kinds {
		parts, err := redigo.Values(k, nil)
		if err != nil || len(parts) != 2 {
			return fmt.Errorf("snapshot: a kind has %d parts (%v)", len(parts), err)
		}
		kind, _ := redigo.String(parts[0], nil)
		if n, ok := parts[1].(int64); ok { // the cache: only whether it has keys
			if n > 0 {
				v.kinds = append(v.kinds, kind)
			}
			continue
		}
		rows, err := redigo.Values(parts[1], nil)
		if err != nil {
			return err
		}
		for _, row := range rows {
			f, _ := redigo.Values(row, nil)
			if len(f) != 3 {
				return fmt.Errorf("snapshot: a record of %s has %d fields", kind, len(f))
			}
			key, _ := redigo.String(f[0], nil)
			if rec, ok := recordOf(kind, key, f[1:]); ok {
				v.recs[kind] = append(v.recs[kind], rec)
			}
		}
		if len(v.recs[kind]) > 0 {
			v.kinds = append(v.kinds, kind)
		}
	}
	return nil
}

func (v *snapshot) decodeStudies(reply any) error {
	studies, err := redigo.Values(reply, nil)
	if err != nil {
		return err
	}
	hash := func(x any) map[string]string { h, _ := redigo.StringMap(x, nil); return h }
	for _, st := range studies {
		parts, _ := redigo.Values(st, nil)
		if len(parts) != 4 {
			return fmt.Errorf("snapshot: a study has %d parts", len(parts))
		}
		name, _ := redigo.String(parts[0], nil)
		id, _ := redigo.String(parts[1], nil)
		study := studyOf(name, id, hash(parts[2]))
		v.studies = append(v.studies, study)
		trials, _ := redigo.Values(parts[3], nil)
		for _, tr := range trials {
			f, _ := redigo.Values(tr, nil)
			if len(f) != 4 {
				return fmt.Errorf("snapshot: a trial of study %q has %d parts", name, len(f))
			}
			tid, _ := redigo.String(f[0], nil)
			t, ok, err := trialOf(tid, hash(f[1]), hash(f[2]), hash(f[3]))
			if err != nil {
				return fmt.Errorf("study %q: %w", name, err)
			}
			if ok {
				v.trials[study.ID] = append(v.trials[study.ID], t)
			}
		}
		slices.SortFunc(v.trials[study.ID], func(a, b tune.FrozenTrial) int { return a.Number - b.Number })
	}
	slices.SortFunc(v.studies, func(a, b store.Study) int { return strings.Compare(a.Name, b.Name) })
	return nil
}

func (v *snapshot) ListRuns(_ context.Context, limit int) ([]*store.Run, error) {
	if limit > 0 && len(v.runs) > limit {
		return v.runs[:limit], nil
	}
	return v.runs, nil
}

func (v *snapshot) Kinds(context.Context) ([]string, error) { return v.kinds, nil }

// ListRecords lists the records of the snapshot; cache records are read
// from the store now (see Snapshot).
func (v *snapshot) ListRecords(ctx context.Context, kind, prefix string) ([]*store.Record, error) {
	if v.s.volatile(kind) {
		return v.s.ListRecords(ctx, kind, prefix)
	}
	var out []*store.Record
	for _, r := range v.recs[kind] {
		if strings.HasPrefix(r.Key, prefix) {
			out = append(out, r)
		}
	}
	return out, nil
}

func (v *snapshot) ListStudies(context.Context) ([]store.Study, error) { return v.studies, nil }

func (v *snapshot) Trials(_ context.Context, studyID int64) ([]tune.FrozenTrial, error) {
	return v.trials[studyID], nil
}
