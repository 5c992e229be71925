package redis

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"

	redigo "github.com/gomodule/redigo/redis"

	"github.com/tabforge/tabforge/store"
)

// PutRun implements store.Runs in one MULTI/EXEC of runCommands. A
// run's creation time is set by its first write and kept by later ones,
// as in store/sqlite.
func (s *Store) PutRun(ctx context.Context, r *store.Run) error {
	cmds, err := s.runCommands(r)
	if err != nil {
		return err
	}
	if err := s.tx(ctx, cmds); err != nil {
		return s.wrap("store run "+r.ID, err)
	}
	return nil
}

// runCommands are the commands that write r: its hash, whose creation
// time only the first write sets, and its two indexes. PutRun runs them
// in a transaction and PutRunFenced in fencedScript, so the two writes of
// a run cannot drift apart. (PutRun in fencedScript with the check left
// out took 2-3 times the server time of the transaction.)
func (s *Store) runCommands(r *store.Run) ([]command, error) {
	doc, row, err := runJSON(r)
	if err != nil {
		return nil, err
	}
	k := s.p + "run:" + r.ID
	return []command{
		cmd("HSETNX", k, "created", nanos(r.Created)),
		cmd("HSET", k, "doc", doc, "row", row),
		cmd("ZADD", s.p+"runs", "NX", r.Created.UnixMicro(), r.ID),
		cmd("ZADD", s.p+"runids", 0, r.ID),
	}, nil
}

var _ store.FencedRunWriter = (*Store)(nil)

// PutRunFenced implements store.FencedRunWriter: runCommands in
// fencedScript, which Redis runs with no other command in between.
func (s *Store) PutRunFenced(ctx context.Context, r *store.Run, f store.Fence) error {
	cmds, err := s.runCommands(r)
	if err != nil {
		return err
	}
	args := scriptCommands([]any{s.recKey(f.Kind, f.Key), strconv.FormatUint(f.Token, 10)}, cmds)
	reply, err := redigo.String(s.script(ctx, fencedScript, args...))
	if err != nil {
		return s.wrap("store run "+r.ID, err)
	}
	if reply != "ok" {
		cur, _ := strconv.ParseUint(reply, 10, 64)
		return fmt.Errorf("store run %s: %w", r.ID, &store.LostError{Kind: f.Kind, Key: f.Key, Token: f.Token, Current: cur})
	}
	return nil
}

// fencedScript runs commands only while the lease record ARGV[1] holds
// the token ARGV[2]; it returns "ok", or else the token the lease holds
// ("" if none). The commands follow, each as its length (name and
// arguments) and then its name and arguments.
var fencedScript = redigo.NewScript(0, `
local v = redis.call('HGET', ARGV[1], 'v')
local held = v and string.match(v, ' (%d+)$') or ''
if held ~= ARGV[2] then return held end
local i = 3
while i <= #ARGV do
	local n = tonumber(ARGV[i])
	redis.call(unpack(ARGV, i + 1, i + n))
	i = i + n + 1
end
return 'ok'
`)

// scriptCommands appends cmds to args as fencedScript and
// createRunScript take them: each as its length (name and arguments),
// then its name and arguments.
func scriptCommands(args []any, cmds []command) []any {
	for _, c := range cmds {
		args = append(append(args, len(c.args)+1, c.name), c.args...)
	}
	return args
}

var _ store.RunCreator = (*Store)(nil)

// CreateRun implements store.RunCreator: runCommands in createRunScript,
// which Redis runs with no other command in between.
func (s *Store) CreateRun(ctx context.Context, r *store.Run) (bool, error) {
	cmds, err := s.runCommands(r)
	if err != nil {
		return false, err
	}
	n, err := redigo.Int(s.script(ctx, createRunScript, scriptCommands([]any{s.p + "run:" + r.ID}, cmds)...))
	if err != nil {
		return false, s.wrap("create run "+r.ID, err)
	}
	return n == 1, nil
}

// createRunScript runs commands only while there is no run hash ARGV[1];
// it returns 1 if it ran them, else 0. The commands follow as in
// fencedScript.
var createRunScript = redigo.NewScript(0, `
if redis.call('EXISTS', ARGV[1]) == 1 then return 0 end
local i = 2
while i <= #ARGV do
	local n = tonumber(ARGV[i])
	redis.call(unpack(ARGV, i + 1, i + n))
	i = i + n + 1
end
return 1
`)

func runJSON(r *store.Run) (doc, row []byte, err error) {
	if doc, err = json.Marshal(r); err == nil {
		row, err = json.Marshal(store.RowOf(r))
	}
	if err != nil {
		return nil, nil, fmt.Errorf("store run %s: %w", r.ID, err)
	}
	return doc, row, nil
}

// DeleteRun implements store.Runs.
func (s *Store) DeleteRun(ctx context.Context, id string) error {
	err := s.tx(ctx, []command{cmd("DEL", s.p+"run:"+id), cmd("ZREM", s.p+"runs", id), cmd("ZREM", s.p+"runids", id)})
	if err != nil {
		return s.wrap("delete run "+id, err)
	}
	return nil
}

func decodeRun(doc, created string) (*store.Run, error) {
	var r store.Run
	if err := json.Unmarshal([]byte(doc), &r); err != nil {
		return nil, err
	}
	if c := fromNanos(created); !c.IsZero() {
		r.Created = c
	}
	if !r.Created.IsZero() {
		r.Created = r.Created.UTC()
	}
	if !r.Finished.IsZero() {
		r.Finished = r.Finished.UTC()
	}
	return &r, nil
}

func (s *Store) loadRuns(ctx context.Context, ids []string) ([]*store.Run, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	cmds := make([]command, len(ids))
	for i, id := range ids {
		cmds[i] = cmd("HMGET", s.p+"run:"+id, "doc", "created")
	}
	replies, err := s.pipeline(ctx, cmds)
	if err != nil {
		return nil, err
	}
	out := make([]*store.Run, 0, len(ids))
	for i, reply := range replies {
		v, _ := redigo.ByteSlices(reply, nil)
		if len(v) != 2 {
			return nil, fmt.Errorf("run %s: HMGET gave %d fields", ids[i], len(v))
		}
		doc, created := string(v[0]), string(v[1])
		if doc == "" {
			continue
		}
		r, err := decodeRun(doc, created)
		if err != nil {
			return nil, fmt.Errorf("run %s: %w", ids[i], err)
		}
		out = append(out, r)
	}
	return out, nil
}

// GetRun implements store.Runs. id may be a unique prefix of a run id.
func (s *Store) GetRun(ctx context.Context, id string) (*store.Run, error) {
	if id == "" {
		return nil, fmt.Errorf("run id is empty: %w", store.ErrNotFound)
	}
	min, max := prefixRange(id)
	ids, err := redigo.Strings(s.Do(ctx, "ZRANGEBYLEX", s.p+"runids", min, max, "LIMIT", 0, 2))
	if err != nil {
		return nil, s.wrap("get run "+id, err)
	}
	switch {
	case len(ids) == 0:
		return nil, fmt.Errorf("run %s: %w", id, store.ErrNotFound)
	case len(ids) > 1 && ids[0] != id:
		return nil, fmt.Errorf("%w %q", store.ErrAmbiguous, id)
	}
	runs, err := s.loadRuns(ctx, ids[:1])
	if err != nil {
		return nil, s.wrap("get run "+id, err)
	}
	if len(runs) == 0 {
		return nil, fmt.Errorf("run %s: %w", id, store.ErrNotFound)
	}
	return runs[0], nil
}

// ListRuns implements store.Runs.
func (s *Store) ListRuns(ctx context.Context, limit int) ([]*store.Run, error) {
	pairs, err := redigo.Strings(s.Do(ctx, "ZRANGE", s.p+"runs", 0, -1, "WITHSCORES"))
	if err != nil {
		return nil, s.wrap("list runs", err)
	}
	runs, err := s.loadRuns(ctx, newestFirst(pairs, limit))
	if err != nil {
		return nil, s.wrap("list runs", err)
	}
	return runs, nil
}

// newestFirst orders the run ids of a ZRANGE runs WITHSCORES reply
// newest first, ties by id, as store/sqlite orders them, and keeps the
// first limit (all if limit is 0).
func newestFirst(pairs []string, limit int) []string {
	type scored struct {
		id    string
		score float64
	}
	zs := make([]scored, 0, len(pairs)/2)
	for i := 0; i+1 < len(pairs); i += 2 {
		zs = append(zs, scored{pairs[i], fparse(pairs[i+1])})
	}
	slices.SortFunc(zs, func(a, b scored) int {
		if a.score != b.score {
			if a.score > b.score {
				return -1
			}
			return 1
		}
		return strings.Compare(a.id, b.id)
	})
	if limit > 0 && len(zs) > limit {
		zs = zs[:limit]
	}
	ids := make([]string, len(zs))
	for i, z := range zs {
		ids[i] = z.id
	}
	return ids
}
