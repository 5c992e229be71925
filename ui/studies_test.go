package ui

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/tabforge/tabforge/tune"
)

// TestStudiesPaged: the studies list shows studiesPerPage at a time with
// links to the next and previous pages, and filters by name; it listed
// every study of the store on one page.
func TestStudiesPaged(t *testing.T) {
	st := openSQLite(t)
	const n = studiesPerPage*2 + 17
	for i := range n {
		family := []string{"gbdt", "forest"}[i%2]
		if _, err := st.CreateStudy(context.Background(), fmt.Sprintf("train/%04d/cfg/%s/tpe", i, family), tune.Maximize); err != nil {
			t.Fatal(err)
		}
	}
	ts := serve(t, st, Options{})
	rows := regexp.MustCompile(`<tr><td><a href="studies/\d+">([^<]+)</a>`)
	tests := []struct {
		path        string
		total       int
		first, last string // names of the first and last row
		prev, next  string // the pager's links, "" for none
	}{
		{"/studies", n, "train/0000/cfg/gbdt/tpe", "train/0099/cfg/forest/tpe", "", "studies?offset=100"},
		{"/studies?offset=200", n, "train/0200/cfg/gbdt/tpe", "train/0216/cfg/gbdt/tpe", "studies?offset=100", ""},
		{"/studies?q=1/cfg/forest", 22, "train/0001/cfg/forest/tpe", "train/0211/cfg/forest/tpe", "", ""}, // i = 1, 11, …, 211
		{"/studies?offset=9999", n, "", "", "studies?offset=" + fmt.Sprint(n-studiesPerPage), ""},
	}
	for _, tt := range tests {
		code, body := get(t, ts.URL, tt.path)
		if code != 200 {
			t.Fatalf("GET %s = %d\n%.400s", tt.path, code, body)
		}
		names := rows.FindAllStringSubmatch(body, -1)
		if len(names) > studiesPerPage {
			t.Errorf("GET %s shows %d studies; want at most %d", tt.path, len(names), studiesPerPage)
		}
		var first, last string
		if len(names) > 0 {
			first, last = names[0][1], names[len(names)-1][1]
		}
		if first != tt.first || last != tt.last {
			t.Errorf("GET %s shows %s … %s; want %s … %s", tt.path, first, last, tt.first, tt.last)
		}
		if want := fmt.Sprintf(`<span id="total">%d</span>`, tt.total); !strings.Contains(body, want) {
			t.Errorf("GET %s does not say %s", tt.path, want)
		}
		for rel, link := range map[string]string{"prev": tt.prev, "next": tt.next} {
			got := regexp.MustCompile(`rel="` + rel + `" href="([^"]*)"`).FindStringSubmatch(body)
			if (link == "") != (got == nil) || (got != nil && got[1] != link) {
				t.Errorf("GET %s: %s link %v; want %q", tt.path, rel, got, link)
			}
		}
	}
	if code, _ := get(t, ts.URL, "/studies?offset=-1"); code != 400 {
		t.Errorf("GET /studies?offset=-1 = %d; want 400", code)
	}
}
