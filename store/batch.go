package store

import (
	"bytes"
	"context"
	"errors"
)

// A RecordDeleter is a record space that removes many records of a kind
// in few round trips or transactions, so that whoever removes thousands
// (tabforge gc's history prune) does not pay one store call for each.
type RecordDeleter interface {
	// DeleteRecords removes (kind, key) for each key; deleting a missing
	// record is not an error. A call that fails may have removed some of
	// the records, each wholly: a record is never left half removed.
	DeleteRecords(ctx context.Context, kind string, keys []string) error
}

// DeleteRecords is r's DeleteRecords if r is a RecordDeleter; otherwise
// it deletes the records one by one, stopping at the first error.
func DeleteRecords(ctx context.Context, r Records, kind string, keys []string) error {
	if d, ok := r.(RecordDeleter); ok {
		return d.DeleteRecords(ctx, kind, keys)
	}
	for _, k := range keys {
		if err := r.DeleteRecord(ctx, kind, k); err != nil {
			return err
		}
	}
	return nil
}

// A RecordGetter is a record space that reads many records of a kind in
// few round trips or queries, so that whoever checks thousands (the
// failover store's journal and its replay) does not pay one store call
// for each.
type RecordGetter interface {
	// GetRecords returns the records of kind under keys that exist, in
	// the order of keys; a missing key is left out, not an error.
	GetRecords(ctx context.Context, kind string, keys []string) ([]*Record, error)
}

// A RecordSwap is one change of SwapRecords: a write of Record, or its
// removal, made only while the record holds the value its caller read.
type RecordSwap struct {
	// Record names the record, and holds the value (nil is an empty
	// value) and time of a write.
	Record Record
	// Delete removes the record instead of writing it.
	Delete bool
	// Old is the value the record must hold for the change to be made;
	// nil means the record must not exist (an empty value is []byte{}).
	Old []byte
	// Blind makes the change whatever the record holds; Old is ignored.
	Blind bool
}

// A RecordSwapper is a record space that swaps many records at once, so
// that whoever has read thousands and writes them back (the failover
// store's replay) neither pays a call for each nor overwrites a record
// another process changed after the read.
type RecordSwapper interface {
	// SwapRecords makes each swap's change if its record holds the
	// swap's Old at that moment, testing and changing the record in one
	// atomic step, and returns the indices (into swaps, ascending) of
	// the swaps it refused, whose records it left as they were. A call
	// that fails may have made some of the changes, each wholly.
	SwapRecords(ctx context.Context, swaps []RecordSwap) (refused []int, err error)
}

// SwapRecords is s's SwapRecords if s is a RecordSwapper. Otherwise it
// makes the swaps one by one: a write with one SwapRecord, tested and
// made in one step (a blind one with PutRecord); a delete after a read
// of the record, which is two steps, so a write another process makes in
// between is deleted (a blind one with DeleteRecord).
func SwapRecords(ctx context.Context, s Swapper, swaps []RecordSwap) (refused []int, err error) {
	if sw, ok := s.(RecordSwapper); ok {
		return sw.SwapRecords(ctx, swaps)
	}
	for i, sw := range swaps {
		made, err := swapOne(ctx, s, sw)
		if err != nil {
			return refused, err
		}
		if !made {
			refused = append(refused, i)
		}
	}
	return refused, nil
}

// swapOne makes one swap of SwapRecords on a store that is no
// RecordSwapper, and reports whether it did.
func swapOne(ctx context.Context, s Swapper, sw RecordSwap) (bool, error) {
	r := sw.Record
	switch {
	case sw.Blind && sw.Delete:
		return true, s.DeleteRecord(ctx, r.Kind, r.Key)
	case sw.Blind:
		return true, s.PutRecord(ctx, r.Kind, r.Key, r.Value)
	case !sw.Delete:
		v := r.Value
		if v == nil {
			v = []byte{} // an empty value, not a delete
		}
		return s.SwapRecord(ctx, r.Kind, r.Key, sw.Old, v)
	}
	cur, err := s.GetRecord(ctx, r.Kind, r.Key)
	switch {
	case errors.Is(err, ErrNotFound):
		return sw.Old == nil, nil // nothing to delete, as the swap expects or not
	case err != nil:
		return false, err
	case sw.Old == nil || !bytes.Equal(cur.Value, sw.Old):
		return false, nil
	}
	return true, s.DeleteRecord(ctx, r.Kind, r.Key)
}
