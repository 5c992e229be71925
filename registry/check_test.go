package registry

import (
	"context"
	"testing"

	"github.com/tabforge/tabforge/store"
	"github.com/tabforge/tabforge/store/storetest"
)

func TestCheckRecord(t *testing.T) {
	ctx := context.Background()
	st := storetest.SQLite(t)
	r := newTestRegistry(t, st)
	v := mustRegister(t, r, model("d1", true))
	if _, err := r.Promote(ctx, v, Production, PromoteOptions{}); err != nil {
		t.Fatal(err)
	}
	// Every record a working registry wrote passes.
	for _, kind := range []string{KindModel, KindName, KindEvent} {
		recs, err := st.ListRecords(ctx, kind, "")
		if err != nil || len(recs) == 0 {
			t.Fatalf("ListRecords(%s) = %d records, %v; want some", kind, len(recs), err)
		}
		for _, rec := range recs {
			if err := CheckRecord(rec); err != nil {
				t.Errorf("CheckRecord(%s/%s written by the registry) = %v; want nil", kind, rec.Key, err)
			}
		}
	}
	tests := []struct {
		kind, key, value string
		ok               bool
	}{
		{KindModel, "abc", `{"version":"abc","created":"last tuesday"}`, false},
		{KindModel, "abc", `not json`, false},
		{KindName, "churn", `{"production":{"version":7}}`, false},
		{KindEvent, "0001", `[]`, false},
		{KindStage, "production", `{"version":"abc"}`, true},
		{KindStage, "canary", `{"version":"abc"}`, false},
		{KindStage, "staging", `{`, false},
		{"log", "x", `not json`, true}, // not the registry's to judge
		{store.CacheKind, "x", ``, true},
	}
	for _, tt := range tests {
		err := CheckRecord(&store.Record{Kind: tt.kind, Key: tt.key, Value: []byte(tt.value)})
		if (err == nil) != tt.ok {
			t.Errorf("CheckRecord(%s/%s = %s) = %v; want ok %v", tt.kind, tt.key, tt.value, err, tt.ok)
		}
	}
}
