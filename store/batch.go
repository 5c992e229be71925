package store

import "context"

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
