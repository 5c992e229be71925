package store_test

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/tabforge/tabforge/store"
	"github.com/tabforge/tabforge/store/storetest"
)

// TestImportTrialParams: a dump's trial whose parameter has no valid
// distribution holding its value is refused (nothing imported): read
// back, the choice index 7 of two choices panicked the dashboard's study
// page and a resumed study's sampler.
func TestImportTrialParams(t *testing.T) {
	ctx := context.Background()
	dump := filledDump(t)
	// Fill's first trial holds eta 0.1 of a log float on [0.01, 1].
	const param = `"params":{"eta":0.1},"distributions":{"eta":{"kind":"float","low":0.01,"high":1,"log":true}}`
	if !strings.Contains(dump, param) {
		t.Fatalf("the dump has no trial with %s:\n%s", param, dump)
	}
	cases := []struct {
		name, param, wantErr string
	}{
		{"as exported", param, ""},
		{"choice past the end", `"params":{"c":7},"distributions":{"c":{"kind":"categorical","choices":["a","b"]}}`, `parameter "c": value 7`},
		{"infinite choice", `"params":{"c":"+Inf"},"distributions":{"c":{"kind":"categorical","choices":["a"]}}`, `parameter "c": value +Inf`},
		{"int not whole", `"params":{"n":2.5},"distributions":{"n":{"kind":"int","low":1,"high":9}}`, `parameter "n": value 2.5`},
		{"out of range", `"params":{"eta":5},"distributions":{"eta":{"kind":"float","low":0.01,"high":1}}`, `parameter "eta": value 5`},
		{"no distribution", `"params":{"eta":0.1}`, `parameter "eta" has no distribution`},
		{"bad distribution", `"params":{"c":0},"distributions":{"c":{"kind":"categorical"}}`, `no choices`},
	}
	for _, tc := range cases {
		dst := storetest.SQLite(t)
		_, err := store.Import(ctx, dst, strings.NewReader(strings.Replace(dump, param, tc.param, 1)))
		switch {
		case tc.wantErr == "" && err != nil:
			t.Errorf("%s: Import: %v", tc.name, err)
		case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
			t.Errorf("%s: Import error %v; want it to say %q", tc.name, err, tc.wantErr)
		}
	}
}

// filledDump is the export of a SQLite store storetest.Fill filled.
func filledDump(t *testing.T) string {
	t.Helper()
	src := storetest.SQLite(t)
	storetest.Fill(t, src)
	var dump bytes.Buffer
	if _, err := store.Export(context.Background(), src, &dump, false); err != nil {
		t.Fatal(err)
	}
	return dump.String()
}
