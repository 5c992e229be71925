package main

import (
	"path/filepath"
	"regexp"
	"slices"
	"testing"

	"github.com/tabforge/tabforge/config"
)

// TestDocConfigKeyMentions: every key the README and docs/*.md name in
// prose as a config key ("config key `sep`", "config keys `max_evals`
// and `time_budget`") is one the config package accepts. TestREADMEFlags
// checks the keys of --set mentions and TestReferenceDoc docs/config.md
// against config.go; a sentence naming a renamed key would send a user
// to "unknown key" with nothing else noticing.
func TestDocConfigKeyMentions(t *testing.T) {
	n := 0
	for name, text := range docs(t) {
		for _, k := range configKeyMentions(text) {
			n++
			if !config.IsKey(k) {
				t.Errorf("%s names config key %q, which the config package does not accept", filepath.Base(name), k)
			}
		}
	}
	// The README names well over five keys this way; none means the
	// pattern no longer matches how it writes them.
	if n < 5 {
		t.Errorf("found %d config key mentions; want at least 5", n)
	}
}

// TestConfigKeyMentionsFinds proves the extraction finds what the check
// needs, a misspelt key included.
func TestConfigKeyMentionsFinds(t *testing.T) {
	doc := "as config key `sep`, and the config keys `max_evals` and `time_budget`; Config key `meta_lerning`."
	got := configKeyMentions(doc)
	want := []string{"sep", "max_evals", "time_budget", "meta_lerning"}
	if !slices.Equal(got, want) {
		t.Fatalf("configKeyMentions = %q; want %q", got, want)
	}
	if config.IsKey("meta_lerning") {
		t.Fatal("meta_lerning is a config key; the misspelt example checks nothing")
	}
}

var (
	configKeyPhrase = regexp.MustCompile("(?i)\\bconfig keys? (`[a-z0-9_]+`(,? (and |or )?)?)+")
	backtickedWord  = regexp.MustCompile("`([a-z0-9_]+)`")
)

// configKeyMentions returns the keys text names after "config key(s)",
// in order.
func configKeyMentions(text string) []string {
	var out []string
	for _, phrase := range configKeyPhrase.FindAllString(text, -1) {
		for _, m := range backtickedWord.FindAllStringSubmatch(phrase, -1) {
			out = append(out, m[1])
		}
	}
	return out
}
