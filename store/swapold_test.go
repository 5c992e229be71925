package store_test

import (
	"testing"

	"github.com/tabforge/tabforge/store"
)

// TestSwapOld: a swap over a record read with an empty value expects an
// empty value, which SwapRecord tells from "no record" (nil): a nil there
// made PutRecordFenced retry forever over such a record.
func TestSwapOld(t *testing.T) {
	for _, tt := range []struct {
		name string
		r    *store.Record
		want []byte
	}{
		{"no record", nil, nil},
		{"empty value", &store.Record{Kind: "k", Key: "a"}, []byte{}},
		{"a value", &store.Record{Kind: "k", Key: "a", Value: []byte("v")}, []byte("v")},
	} {
		got := store.SwapOld(tt.r)
		if (got == nil) != (tt.want == nil) || string(got) != string(tt.want) {
			t.Errorf("SwapOld(%s) = %q (nil %v); want %q (nil %v)", tt.name, got, got == nil, tt.want, tt.want == nil)
		}
	}
}
