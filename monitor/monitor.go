// Package monitor keeps what the monitoring commands found (drift
// reports, backtests) in the store, so the dashboard's /monitor page can
// show them across processes and machines. Recording is optional: the
// commands record only when asked (tabforge drift --record, tabforge
// backtest --record); nothing else in tabforge depends on these records.
package monitor

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/tabforge/tabforge/store"
)

// Record kinds in the store's record space.
const (
	// DriftKind holds drift.Report values.
	DriftKind = "monitor.drift"
	// BacktestKind holds continuous.BacktestResult values.
	BacktestKind = "monitor.backtest"
)

// Entry is one recorded report.
type Entry struct {
	// Key is the record key: the creation time, sortable, so the newest
	// entries come last by key.
	Key     string    `json:"-"`
	Created time.Time `json:"created"`
	// Title says what was compared or replayed, e.g. "ref.csv → cur.csv".
	Title string `json:"title"`
	// Report is the command's JSON report (its --json output).
	Report json.RawMessage `json:"report"`
}

// keyLayout sorts as text in time order (fixed width, UTC).
const keyLayout = "2006-01-02T15:04:05.000000000Z"

// Record stores report under kind with title, created now. It returns
// the record's key.
func Record(ctx context.Context, recs store.Records, kind, title string, report any, now time.Time) (string, error) {
	raw, err := json.Marshal(report)
	if err != nil {
		return "", fmt.Errorf("monitor: record %s: %w", kind, err)
	}
	e := Entry{Created: now.UTC(), Title: title, Report: raw}
	b, err := json.Marshal(e)
	if err != nil {
		return "", fmt.Errorf("monitor: record %s: %w", kind, err)
	}
	key := e.Created.Format(keyLayout)
	if err := recs.PutRecord(ctx, kind, key, b); err != nil {
		return "", fmt.Errorf("monitor: record %s: %w", kind, err)
	}
	return key, nil
}

// List returns up to limit entries of kind, newest first (limit 0: all).
// An entry that does not decode is skipped: one bad record must not hide
// the others.
func List(ctx context.Context, recs store.Records, kind string, limit int) ([]Entry, error) {
	rs, err := recs.ListRecords(ctx, kind, "")
	if err != nil {
		return nil, fmt.Errorf("monitor: list %s: %w", kind, err)
	}
	slices.Reverse(rs) // ordered by key: oldest first
	var out []Entry
	for _, r := range rs {
		var e Entry
		if json.Unmarshal(r.Value, &e) != nil {
			continue
		}
		e.Key = r.Key
		out = append(out, e)
		if limit > 0 && len(out) == limit {
			break
		}
	}
	return out, nil
}
