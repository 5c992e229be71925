package continuous

import (
	"strings"
	"testing"
)

// FuzzRealise feeds arbitrary prediction logs and actuals files to
// Realise: it must not panic, and a report it returns must count
// consistently.
func FuzzRealise(f *testing.F) {
	f.Add(predLog, "request_id,row,actual\na,0,12\na,1,18\nb,0,29\nd,0,yes\n", uint8(0))
	f.Add(predLog, "\uFEFFrequest_id;actual\nc;40\n", uint8(';'))
	f.Add(`{"request_id":"a","predictions":[{"prediction":1}]}`+"\n", "request_id,actual\na,1\n", uint8(0))
	f.Add(`{"request_id":"a","time":"x","predictions":[1e308,-1e308]}`, "request_id,row,actual\na,1,-1e308\na,0,1e308\n", uint8('|'))
	f.Fuzz(func(t *testing.T, log, actuals string, comma uint8) {
		r, err := Realise(strings.NewReader(log), strings.NewReader(actuals), RealiseOptions{Comma: rune(comma)})
		if err != nil {
			return
		}
		if r.Joined > r.Predictions || r.Unmatched < 0 {
			t.Errorf("joined %d of %d predictions, %d unmatched", r.Joined, r.Predictions, r.Unmatched)
		}
		rows := 0
		for _, g := range r.Groups {
			if g.Rows <= 0 {
				t.Errorf("group %+v has no rows", g)
			}
			rows += g.Rows
		}
		if rows != r.Joined {
			t.Errorf("groups hold %d rows; %d joined", rows, r.Joined)
		}
	})
}
