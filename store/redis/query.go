package redis

import (
	"context"
	"encoding/json"
	"fmt"

	goredis "github.com/redis/go-redis/v9"

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
	ids, err := s.c.ZRange(ctx, s.p+"runs", 0, -1).Result()
	if err != nil {
		return nil, s.wrap("query runs", err)
	}
	cmds := make([]*goredis.SliceCmd, len(ids))
	_, err = s.c.Pipelined(ctx, func(p goredis.Pipeliner) error {
		for i, id := range ids {
			cmds[i] = p.HMGet(ctx, s.p+"run:"+id, "row", "created")
		}
		return nil
	})
	if err != nil {
		return nil, s.wrap("query runs", err)
	}
	rows := make([]store.RunRow, 0, len(ids))
	var legacy []string
	for i, c := range cmds {
		v := c.Val()
		row, _ := v[0].(string)
		created, _ := v[1].(string)
		if row == "" {
			legacy = append(legacy, ids[i])
			continue
		}
		var r store.RunRow
		if err := json.Unmarshal([]byte(row), &r); err != nil {
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
