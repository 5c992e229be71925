package registry

import (
	"context"
	"errors"
	"testing"

	"github.com/tabforge/tabforge/store/storetest"
)

func TestRecord(t *testing.T) {
	ctx := context.Background()
	r := newTestRegistry(t, storetest.SQLite(t))
	a := mustRegister(t, r, model("data-a", true))
	b := mustRegister(t, r, model("data-b", true))
	if _, err := r.Promote(ctx, a, Production, PromoteOptions{}); err != nil {
		t.Fatal(err)
	}
	e, err := r.Record(ctx, Event{Name: "house", Action: ActionRetrain, Version: b, Parent: a, Reason: "keep: not better"})
	if err != nil || e.Time.IsZero() {
		t.Fatalf("Record = %+v, %v", e, err)
	}
	h, err := r.History(ctx, b)
	if err != nil || len(h) != 1 || h[0].Parent != a || h[0].Action != ActionRetrain {
		t.Errorf("history of %s = %+v, %v; want the retrain event", b, h, err)
	}
	// A recorded event moves no stage: b is not archived, a stays in production.
	if m, _ := r.Get(ctx, b); m.Stage != None {
		t.Errorf("%s is %s after a recorded event; want none", b, m.Stage)
	}
	for _, bad := range []Event{
		{Name: "house", Action: ActionRetrain, Stage: Production},
		{Name: "house"},
		{Name: "nobody", Action: ActionRetrain},
		{Name: "house", Action: ActionRetrain, Version: "0123456789abcdef"},
	} {
		if _, err := r.Record(ctx, bad); err == nil {
			t.Errorf("Record(%+v): no error", bad)
		}
	}
	if _, err := r.Record(ctx, Event{Name: "nobody", Action: ActionRetrain}); !errors.Is(err, ErrUnknownName) {
		t.Errorf("unknown name: %v", err)
	}
}
