package model_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"testing"

	"github.com/tabforge/tabforge/internal/formatversion"
	"github.com/tabforge/tabforge/model"
)

// TestTargetTagNewer raises the version in the tag of a real log-target
// and trend-target model's encoding and checks that each is refused as
// written by a newer tabforge. Such a tag matched neither known tag and
// went to the inner tree family's decoder: "tree: corrupt model data".
func TestTargetTagNewer(t *testing.T) {
	trend, _ := trendData(4, 2003)
	for _, tc := range []struct {
		fam                 model.Family
		train               *model.Dataset
		params, tag, raised string
	}{
		{olsFamily(t), expData(50), `{"target_transform":"log"}`, "tflogtarget1\x00", "tflogtarget2\x00"},
		{treeFamily(t), trend, `{"target_transform":"trend","trend_features":["year","month"]}`, "tftrendtarget1\x00", "tftrendtarget12\x00"},
	} {
		fam, train := tc.fam, tc.train
		l, err := fam.New(model.Regression, 1, json.RawMessage(tc.params))
		if err != nil {
			t.Fatal(err)
		}
		b, err := mustFit(t, l, train).MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := fam.Decode(b); err != nil {
			t.Fatalf("Decode(%q...) = %v", tc.tag, err)
		}
		raised, ok := bytes.CutPrefix(b, []byte(tc.tag))
		if !ok {
			t.Fatalf("the encoding starts %q, not %q", b[:len(tc.tag)], tc.tag)
		}
		raised = append([]byte(tc.raised), raised...)
		if _, err := fam.Decode(raised); !errors.Is(err, formatversion.ErrNewer) {
			t.Errorf("Decode(%q...) = %v; want an error wrapping formatversion.ErrNewer", tc.raised, err)
		}
	}
}
