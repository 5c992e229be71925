package redis

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	redigo "github.com/gomodule/redigo/redis"

	"github.com/tabforge/tabforge/store"
	"github.com/tabforge/tabforge/tune"
)

// Study and trial writes are Lua scripts: each checks a state and
// changes it in one atomic step, which is what several tuning workers in
// several processes need. The prefix is passed as ARGV[1].

var createStudyScript = redigo.NewScript(0, `
local p, name = ARGV[1], ARGV[2]
local id = redis.call('HGET', p .. 'studies', name)
if id then
	return {tonumber(id), redis.call('HGET', p .. 'study:' .. id, 'direction')}
end
id = redis.call('INCR', p .. 'seq:study')
redis.call('HSET', p .. 'study:' .. id, 'name', name, 'direction', ARGV[3], 'created', ARGV[4])
redis.call('HSET', p .. 'studies', name, id)
return {id, ARGV[3]}
`)

var createTrialScript = redigo.NewScript(0, `
local p, sid = ARGV[1], ARGV[2]
if redis.call('EXISTS', p .. 'study:' .. sid) == 0 then
	return redis.error_reply('unknown study id ' .. sid)
end
local id = redis.call('INCR', p .. 'seq:trial')
local n = redis.call('INCR', p .. 'tnext:' .. sid) - 1
redis.call('HSET', p .. 'trial:' .. id, 'study', sid, 'number', n, 'state', ARGV[3], 'value', 'NaN',
	'retry_of', ARGV[4], 'error', '', 'start', ARGV[5], 'finish', '0')
redis.call('HSET', p .. 'trials:' .. sid, n, id)
for i = 6, #ARGV, 2 do
	redis.call('HSET', p .. 'tparams:' .. id, ARGV[i], ARGV[i + 1])
end
return {id, n}
`)

// transitionScript writes field/value pairs into the hash ARGV[4]..id if
// the trial is in state ARGV[3]; it returns {1, state} on success and
// {0, state} if the trial is in another state.
var transitionScript = redigo.NewScript(0, `
local p, id = ARGV[1], ARGV[2]
local st = redis.call('HGET', p .. 'trial:' .. id, 'state')
if not st then
	return redis.error_reply('unknown trial id ' .. id)
end
if st ~= ARGV[3] then
	return {0, st}
end
local key = p .. ARGV[4] .. id
for i = 5, #ARGV, 2 do
	redis.call('HSET', key, ARGV[i], ARGV[i + 1])
end
return {1, st}
`)

// putTrialScript writes a whole trial, by study name and number, over
// the trial of that number if there is one; it returns the trial's id.
// swapTrialScript does so only while that trial is in the state that
// follows its intermediate values (see SwapTrial), and returns 0
// otherwise. The %s is where they differ.
const putTrialBody = `
local p = ARGV[1]
local sid = redis.call('HGET', p .. 'studies', ARGV[2])
if not sid then
	return redis.error_reply('study not found: ' .. ARGV[2])
end
local n = ARGV[3]
local id = redis.call('HGET', p .. 'trials:' .. sid, n)
local np = tonumber(ARGV[10])
local nv = tonumber(ARGV[11 + 2 * np])
local x = 12 + 2 * (np + nv)
%s
if not id then
	id = redis.call('INCR', p .. 'seq:trial')
	redis.call('HSET', p .. 'trials:' .. sid, n, id)
end
local nx = tonumber(redis.call('GET', p .. 'tnext:' .. sid) or '0')
if tonumber(n) + 1 > nx then
	redis.call('SET', p .. 'tnext:' .. sid, tonumber(n) + 1)
end
redis.call('DEL', p .. 'tparams:' .. id, p .. 'tvals:' .. id)
redis.call('HSET', p .. 'trial:' .. id, 'study', sid, 'number', n, 'state', ARGV[4], 'value', ARGV[5],
	'retry_of', ARGV[6], 'error', ARGV[7], 'start', ARGV[8], 'finish', ARGV[9])
local i = 11
for j = 1, np do
	redis.call('HSET', p .. 'tparams:' .. id, ARGV[i], ARGV[i + 1])
	i = i + 2
end
i = i + 1
for j = 1, nv do
	redis.call('HSET', p .. 'tvals:' .. id, ARGV[i], ARGV[i + 1])
	i = i + 2
end
return tonumber(id)
`

// swapTrialCheck is swapTrialScript's test. With nothing after the
// intermediate values (ARGV[x] on), the trial must be missing; else it
// must have the state ARGV[x], the value ARGV[x+1] (as fstr writes
// them) and the parameters named from ARGV[x+2] on, each followed by
// its value, compared as numbers with the stored ones.
const swapTrialCheck = `
if x > #ARGV then
	if id then return 0 end
else
	if not id then return 0 end
	local cur = redis.call('HMGET', p .. 'trial:' .. id, 'state', 'value')
	if cur[1] ~= ARGV[x] or cur[2] ~= ARGV[x + 1] then return 0 end
	if redis.call('HLEN', p .. 'tparams:' .. id) ~= (#ARGV - x - 1) / 2 then return 0 end
	for k = x + 2, #ARGV, 2 do
		local js = redis.call('HGET', p .. 'tparams:' .. id, ARGV[k])
		if not js or cjson.decode(js).v ~= tonumber(ARGV[k + 1]) then return 0 end
	end
end
`

var (
	putTrialScript  = redigo.NewScript(0, fmt.Sprintf(putTrialBody, ""))
	swapTrialScript = redigo.NewScript(0, fmt.Sprintf(putTrialBody, swapTrialCheck))
)

// param is a stored parameter: its internal value and distribution.
type param struct {
	V float64           `json:"v"`
	D tune.Distribution `json:"d"`
}

func paramJSON(v float64, d tune.Distribution) (string, error) {
	b, err := json.Marshal(param{V: v, D: d})
	return string(b), err
}

// CreateStudy implements tune.Storage.
func (s *Store) CreateStudy(ctx context.Context, name string, d tune.Direction) (int64, error) {
	return s.createStudy(ctx, name, d, time.Now())
}

func (s *Store) createStudy(ctx context.Context, name string, d tune.Direction, created time.Time) (int64, error) {
	res, err := redigo.Values(s.script(ctx, createStudyScript, s.p, name, string(d), nanos(created)))
	if err != nil {
		return 0, s.wrap(fmt.Sprintf("create study %q", name), err)
	}
	if len(res) != 2 {
		return 0, fmt.Errorf("create study %q: script gave %d values", name, len(res))
	}
	id, _ := redigo.Int64(res[0], nil)
	dir, _ := redigo.String(res[1], nil)
	if tune.Direction(dir) != d {
		return 0, fmt.Errorf("study %q exists with direction %s, not %s", name, dir, d)
	}
	return id, nil
}

// PutStudy implements store.Studies.
func (s *Store) PutStudy(ctx context.Context, st store.Study) (int64, error) {
	created := st.Created
	if created.IsZero() {
		created = time.Now()
	}
	return s.createStudy(ctx, st.Name, st.Direction, created)
}

// ListStudies implements store.Studies.
func (s *Store) ListStudies(ctx context.Context) ([]store.Study, error) {
	byName, err := redigo.StringMap(s.Do(ctx, "HGETALL", s.p+"studies"))
	if err != nil {
		return nil, s.wrap("list studies", err)
	}
	names := make([]string, 0, len(byName))
	for n := range byName {
		names = append(names, n)
	}
	slices.Sort(names)
	cmds := make([]command, len(names))
	for i, n := range names {
		cmds[i] = cmd("HGETALL", s.p+"study:"+byName[n])
	}
	replies, err := s.pipeline(ctx, cmds)
	if err != nil {
		return nil, s.wrap("list studies", err)
	}
	out := make([]store.Study, len(names))
	for i, n := range names {
		h, _ := redigo.StringMap(replies[i], nil)
		out[i] = studyOf(n, byName[n], h)
	}
	return out, nil
}

// studyOf decodes study name of id from its hash.
func studyOf(name, id string, h map[string]string) store.Study {
	n, _ := strconv.ParseInt(id, 10, 64)
	return store.Study{ID: n, Name: name, Direction: tune.Direction(h["direction"]), Created: fromNanos(h["created"])}
}

// CreateTrial implements tune.Storage. Numbers come from a per-study
// INCR inside the script, so concurrent writers never share one.
func (s *Store) CreateTrial(ctx context.Context, studyID int64, t tune.FrozenTrial) (int64, int, error) {
	if t.State != tune.Running && t.State != tune.Waiting {
		return 0, 0, fmt.Errorf("create trial in state %s: %w", t.State, tune.ErrStateConflict)
	}
	start := "0"
	if t.State == tune.Running {
		start = nanos(time.Now())
	}
	args := []any{s.p, studyID, string(t.State), t.RetryOf, start}
	for name, v := range t.Params {
		js, err := paramJSON(v, t.Distributions[name])
		if err != nil {
			return 0, 0, fmt.Errorf("create trial: parameter %q: %w", name, err)
		}
		args = append(args, name, js)
	}
	res, err := redigo.Int64s(s.script(ctx, createTrialScript, args...))
	if err != nil {
		return 0, 0, s.wrap("create trial", err)
	}
	if len(res) != 2 {
		return 0, 0, fmt.Errorf("create trial: script gave %d values", len(res))
	}
	id, n := res[0], res[1]
	return id, int(n), nil
}

// transition runs transitionScript and turns a state mismatch into
// tune.ErrStateConflict.
func (s *Store) transition(ctx context.Context, what string, id int64, from tune.State, hash string, pairs ...any) error {
	args := append([]any{s.p, id, string(from), hash}, pairs...)
	res, err := redigo.Values(s.script(ctx, transitionScript, args...))
	if err != nil {
		return s.wrap(what, err)
	}
	if len(res) != 2 {
		return fmt.Errorf("%s: script gave %d values", what, len(res))
	}
	if ok, _ := redigo.Int64(res[0], nil); ok == 0 {
		st, _ := redigo.String(res[1], nil)
		return fmt.Errorf("%s: trial %d is %s, not %s: %w", what, id, st, from, tune.ErrStateConflict)
	}
	return nil
}

// ClaimTrial implements tune.Storage.
func (s *Store) ClaimTrial(ctx context.Context, trialID int64) error {
	return s.transition(ctx, "claim trial", trialID, tune.Waiting, "trial:", "state", string(tune.Running), "start", nanos(time.Now()))
}

// SetTrialParam implements tune.Storage.
func (s *Store) SetTrialParam(ctx context.Context, trialID int64, name string, d tune.Distribution, value float64) error {
	js, err := paramJSON(value, d)
	if err != nil {
		return fmt.Errorf("set parameter %q: %w", name, err)
	}
	return s.transition(ctx, fmt.Sprintf("set parameter %q", name), trialID, tune.Running, "tparams:", name, js)
}

// SetIntermediateValue implements tune.Storage.
func (s *Store) SetIntermediateValue(ctx context.Context, trialID int64, step int, value float64) error {
	return s.transition(ctx, fmt.Sprintf("set intermediate value at step %d", step), trialID, tune.Running, "tvals:", step, fstr(value))
}

// FinishTrial implements tune.Storage.
func (s *Store) FinishTrial(ctx context.Context, trialID int64, st tune.State, value float64, reason string) error {
	if !st.Finished() {
		return fmt.Errorf("finish trial in state %s: %w", st, tune.ErrStateConflict)
	}
	return s.transition(ctx, "finish trial", trialID, tune.Running, "trial:",
		"state", string(st), "value", fstr(value), "error", reason, "finish", nanos(time.Now()))
}

// Trials implements tune.Storage.
func (s *Store) Trials(ctx context.Context, studyID int64) ([]tune.FrozenTrial, error) {
	sid := strconv.FormatInt(studyID, 10)
	byNumber, err := redigo.StringMap(s.Do(ctx, "HGETALL", s.p+"trials:"+sid))
	if err != nil {
		return nil, s.wrap("list trials", err)
	}
	ids := make([]string, 0, len(byNumber))
	for _, id := range byNumber {
		ids = append(ids, id)
	}
	cmds := make([]command, 0, 3*len(ids))
	for _, id := range ids {
		cmds = append(cmds, cmd("HGETALL", s.p+"trial:"+id), cmd("HGETALL", s.p+"tparams:"+id), cmd("HGETALL", s.p+"tvals:"+id))
	}
	replies, err := s.pipeline(ctx, cmds)
	if err != nil {
		return nil, s.wrap("list trials", err)
	}
	hash := func(i int) map[string]string { h, _ := redigo.StringMap(replies[i], nil); return h }
	out := make([]tune.FrozenTrial, 0, len(ids))
	for i, id := range ids {
		t, ok, err := trialOf(id, hash(3*i), hash(3*i+1), hash(3*i+2))
		if err != nil {
			return nil, fmt.Errorf("list trials: %w", err)
		}
		if ok {
			out = append(out, t)
		}
	}
	slices.SortFunc(out, func(a, b tune.FrozenTrial) int { return a.Number - b.Number })
	return out, nil
}

// trialOf decodes trial id from its trial, tparams and tvals hashes; ok
// is false when the trial hash is gone.
func trialOf(id string, h, params, vals map[string]string) (t tune.FrozenTrial, ok bool, err error) {
	if len(h) == 0 {
		return t, false, nil
	}
	t.ID, _ = strconv.ParseInt(id, 10, 64)
	t.Number, _ = strconv.Atoi(h["number"])
	t.RetryOf, _ = strconv.Atoi(h["retry_of"])
	t.State, t.Value, t.Error = tune.State(h["state"]), fparse(h["value"]), h["error"]
	t.Start, t.Finish = fromNanos(h["start"]), fromNanos(h["finish"])
	t.Params, t.Distributions, t.Intermediate = map[string]float64{}, map[string]tune.Distribution{}, map[int]float64{}
	for name, js := range params {
		var pv param
		if err := json.Unmarshal([]byte(js), &pv); err != nil {
			return t, false, fmt.Errorf("parameter %q of trial id %s: %w", name, id, err)
		}
		t.Params[name], t.Distributions[name] = pv.V, pv.D
	}
	for step, v := range vals {
		n, err := strconv.Atoi(step)
		if err != nil {
			return t, false, fmt.Errorf("step %q of trial id %s: %w", step, id, err)
		}
		t.Intermediate[n] = fparse(v)
	}
	return t, true, nil
}

// PutTrial implements store.Studies.
func (s *Store) PutTrial(ctx context.Context, study string, t tune.FrozenTrial) error {
	_, err := s.putTrial(ctx, putTrialScript, study, t, nil)
	return err
}

var _ store.TrialSwapper = (*Store)(nil)

// SwapTrial implements store.TrialSwapper in swapTrialScript, which
// Redis runs with no other command in between. The failover store's
// replay copies a trial run on its fallback with it, so that a trial
// another process ran, claimed or finished on Redis meanwhile is kept.
func (s *Store) SwapTrial(ctx context.Context, study string, old *tune.FrozenTrial, t tune.FrozenTrial) (bool, error) {
	var expect []any // none: the trial must be missing
	if old != nil {
		expect = []any{string(old.State), fstr(old.Value)}
		for name, v := range old.Params {
			expect = append(expect, name, fstr(v))
		}
	}
	id, err := s.putTrial(ctx, swapTrialScript, study, t, expect)
	return id != 0, err
}

// putTrial runs sc, putTrialScript or swapTrialScript (after t, the
// arguments expect), for trial t of study and returns its reply: the
// trial's id, or 0.
func (s *Store) putTrial(ctx context.Context, sc *redigo.Script, study string, t tune.FrozenTrial, expect []any) (int64, error) {
	args := []any{s.p, study, t.Number, string(t.State), fstr(t.Value), t.RetryOf, t.Error, nanos(t.Start), nanos(t.Finish), len(t.Params)}
	for name, v := range t.Params {
		js, err := paramJSON(v, t.Distributions[name])
		if err != nil {
			return 0, fmt.Errorf("put trial %d: parameter %q: %w", t.Number, name, err)
		}
		args = append(args, name, js)
	}
	args = append(args, len(t.Intermediate))
	for step, v := range t.Intermediate {
		args = append(args, step, fstr(v))
	}
	args = append(args, expect...)
	id, err := redigo.Int64(s.script(ctx, sc, args...))
	if err != nil {
		if strings.Contains(err.Error(), "study not found") {
			return 0, fmt.Errorf("put trial %d of study %q: %w", t.Number, study, store.ErrNotFound)
		}
		return 0, s.wrap(fmt.Sprintf("put trial %d of study %q", t.Number, study), err)
	}
	return id, nil
}
