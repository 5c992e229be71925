package registry

import (
	"encoding/json"
	"fmt"

	"github.com/tabforge/tabforge/store"
)

// CheckRecord returns an error if rec is a registry record (a model
// version, its index entry, a name, an event, a summary, or a stage record of the layout before
// names) that the registry could not read, decoding it as the registry
// does; records of other kinds pass. store import runs it on every record
// of a dump before writing any (store.ImportOptions), so that one damaged
// value is refused there instead of making every listing of models fail.
func CheckRecord(rec *store.Record) error {
	var err error
	switch rec.Kind {
	case KindModel:
		_, err = decodeModel(rec)
	case KindName:
		_, err = decodeName(rec)
	case KindEvent:
		_, err = decodeEvent(rec)
	case KindStage:
		_, err = decodeSlot(rec)
	case KindSummary:
		_, err = decodeSummary(rec)
	case KindVersions:
		err = checkIndexRecord(rec)
	case KindMeta:
		err = json.Unmarshal(rec.Value, new(layoutRecord))
	}
	return err
}

// decodeSlot reads a store-wide stage record of the layout before names:
// the production or staging slot.
func decodeSlot(rec *store.Record) (slot, error) {
	var s slot
	if err := json.Unmarshal(rec.Value, &s); err != nil {
		return s, fmt.Errorf("registry: %s record: %w", rec.Key, err)
	}
	if st := Stage(rec.Key); st != Production && st != Staging {
		return s, fmt.Errorf("registry: unknown stage record %q", rec.Key)
	}
	return s, nil
}

func decodeEvent(rec *store.Record) (Event, error) {
	var e Event
	if err := json.Unmarshal(rec.Value, &e); err != nil {
		return e, fmt.Errorf("registry: event %s: %w", rec.Key, err)
	}
	return e, nil
}
