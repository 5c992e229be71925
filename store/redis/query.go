package redis

import (
	"context"
	"encoding/json"
	"fmt"

	redigo "github.com/gomodule/redigo/redis"

	"github.com/tabforge/tabforge/store"
)

var _ store.RunQuerier = (*Store)(nil)

// QueryRuns implements store.RunQuerier. Each run's hash keeps a small
// "row" (its store.RunRow, written by PutRun) beside the full document,
// so a page reads one small field per run and never the results; runs
// written before rows existed are read in full once per query.
func (s *Store) QueryRuns(ctx context.Context, q store.RunQuery) (*store.RunPage, error) {
	if err := q.Check(); err != nil {
		return nil, err
	}
	ids, err := redigo.Strings(s.Do(ctx, "ZRANGE", s.p+"runs", 0, -1))
	if err != nil {
		return nil, s.wrap("query runs", err)
	}
	cmds := make([]command, len(ids))
	for i, id := range ids {
		cmds[i] = cmd("HMGET", s.p+"run:"+id, "row", "created")
	}
	replies, err := s.pipeline(ctx, cmds)
	if err != nil {
		return nil, s.wrap("query runs", err)
	}
	rows := make([]store.RunRow, 0, len(ids))
	var legacy []string
	for i, reply := range replies {
		v, _ := redigo.ByteSlices(reply, nil)
		if len(v) != 2 {
			return nil, fmt.Errorf("query runs: run %s: HMGET gave %d fields", ids[i], len(v))
		}
		row, created := v[0], string(v[1])
		if len(row) == 0 {
			legacy = append(legacy, ids[i])
			continue
		}
		var r store.RunRow
		if err := json.Unmarshal(row, &r); err != nil {
			return nil, fmt.Errorf("query runs: run %s: %w", ids[i], err)
		}
		if c := fromNanos(created); !c.IsZero() {
			r.Created = c
		}
		rows = append(rows, r)
	}
	old, err := s.loadRuns(ctx, legacy)
	if err != nil {
		return nil, s.wrap("query runs", err)
	}
	for _, r := range old {
		rows = append(rows, store.RowOf(r))
	}
	return store.SelectRuns(rows, q), nil
}
