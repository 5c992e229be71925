package store

import (
	"context"
	"slices"
)

// A RecordPager is a record space that reads a kind's records a page at
// a time, from either end of the key order, so that whoever wants the
// newest few of many time-keyed records (the registry's history) reads
// those and not the rest.
type RecordPager interface {
	// PageRecords returns up to limit records of kind whose key k has
	// from <= k < to (an empty bound is no bound), in key order, or in
	// reverse key order with desc. limit must be positive.
	PageRecords(ctx context.Context, kind, from, to string, limit int, desc bool) ([]*Record, error)
}

// PageRecords is r's PageRecords if r is a RecordPager; otherwise it
// lists every record of kind and returns the page of them.
func PageRecords(ctx context.Context, r Records, kind, from, to string, limit int, desc bool) ([]*Record, error) {
	if p, ok := r.(RecordPager); ok {
		return p.PageRecords(ctx, kind, from, to, limit, desc)
	}
	recs, err := r.ListRecords(ctx, kind, "")
	if err != nil {
		return nil, err
	}
	recs = slices.DeleteFunc(recs, func(rec *Record) bool { return rec.Key < from || (to != "" && rec.Key >= to) })
	if desc {
		slices.Reverse(recs)
	}
	return recs[:min(limit, len(recs))], nil
}

// A RecordCounter is a record space that counts a kind's records in a
// key range without reading them, so that whoever shows a page of many
// records (the registry's version index) can say how many there are at
// the cost of an index lookup.
type RecordCounter interface {
	// CountRecords returns how many records of kind have a key k with
	// from <= k < to (an empty bound is no bound).
	CountRecords(ctx context.Context, kind, from, to string) (int, error)
}

// CountRecords is r's CountRecords if r is a RecordCounter; otherwise it
// lists every record of kind and counts those in the range.
func CountRecords(ctx context.Context, r Records, kind, from, to string) (int, error) {
	if c, ok := r.(RecordCounter); ok {
		return c.CountRecords(ctx, kind, from, to)
	}
	recs, err := r.ListRecords(ctx, kind, "")
	if err != nil {
		return 0, err
	}
	n := 0
	for _, rec := range recs {
		if rec.Key >= from && (to == "" || rec.Key < to) {
			n++
		}
	}
	return n, nil
}
