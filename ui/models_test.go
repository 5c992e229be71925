package ui

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"testing"
	"time"

	"github.com/tabforge/tabforge/artifact"
	"github.com/tabforge/tabforge/registry"
)

var versionRE = regexp.MustCompile(`<tr data-version="([0-9a-f]+)">`)

// TestModelsPaged: /models shows a name's newest versions and those with
// a stage or an alias, not all of them (a name retrained hourly made it
// a page of every version ever trained: 740 KB at 3,000), and links to
// /models?name=NAME, which pages through every version.
func TestModelsPaged(t *testing.T) {
	st := openSQLite(t)
	reg := registry.New(st)
	ctx := context.Background()
	const n = 2*versionsPerPage + 5
	created := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	var newest []string // newest first, as the pages list them
	for i := range n {
		m, _, err := reg.Register(ctx, registry.Model{Name: "hourly",
			Identity: registry.Identity{DatasetHash: "d", ConfigHash: fmt.Sprintf("cfg%d", i), CodeVersion: "test"},
			RunID:    fmt.Sprintf("run-%d", i), Task: "regression", Family: "gbdt", Deployable: true,
			Artifact: artifact.Ref{URL: "file:///nowhere", Key: fmt.Sprint(i), SHA256: "00", Size: 1},
			Created:  created.Add(time.Duration(i) * time.Hour)})
		if err != nil {
			t.Fatal(err)
		}
		newest = slices.Insert(newest, 0, m.Version)
	}
	oldest := newest[n-1]
	if _, err := reg.Promote(ctx, oldest, registry.Production, registry.PromoteOptions{}); err != nil {
		t.Fatal(err)
	}
	ts := serve(t, st, Options{})
	versions := func(path string) ([]string, string) {
		code, body := get(t, ts.URL, path)
		if code != 200 {
			t.Fatalf("GET %s = %d", path, code)
		}
		var out []string
		for _, m := range versionRE.FindAllStringSubmatch(body, -1) {
			out = append(out, m[1])
		}
		return out, body
	}
	got, body := versions("/models")
	if want := append(slices.Clone(newest[:versionsShown]), oldest); !slices.Equal(got, want) {
		t.Errorf("/models versions %v; want the %d newest and the production one", got, versionsShown)
	}
	if !regexp.MustCompile(`href="models\?name=hourly"`).MatchString(body) {
		t.Error("/models has no link to all versions of hourly")
	}
	var all []string
	for _, p := range []string{"/models?name=hourly", "/models?name=hourly&offset=100", "/models?name=hourly&offset=200"} {
		got, _ := versions(p)
		all = append(all, got...)
	}
	if !slices.Equal(all, newest) {
		t.Errorf("the pages of /models?name=hourly list %d versions; want all %d newest first", len(all), n)
	}
	for _, tt := range []struct {
		path string
		code int
	}{{"/models?name=nosuch", 404}, {"/models?name=hourly&offset=-1", 400}} {
		if code, _ := get(t, ts.URL, tt.path); code != tt.code {
			t.Errorf("GET %s = %d; want %d", tt.path, code, tt.code)
		}
	}
}
