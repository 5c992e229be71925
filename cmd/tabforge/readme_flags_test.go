package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/tabforge/tabforge/bench"
	"github.com/tabforge/tabforge/config"
)

// TestREADMEFlags checks every tabforge command the README and docs/*.md
// mention anywhere (sh blocks, the synopsis block and inline code in the
// prose), not only the sh blocks TestREADMECommands parses: the command
// exists, each --flag it shows is one of that command's flags, and each
// --set KEY=VALUE names a config key. Prose drifts from the code more
// easily than runnable blocks do (a flag renamed, a key dropped), and a
// user copying it gets "unknown flag".
func TestREADMEFlags(t *testing.T) {
	total := 0
	for name, text := range docs(t) {
		for _, m := range tabforgeMentions(text) {
			total++
			for _, msg := range checkMention(m) {
				t.Errorf("%s: %q: %s", filepath.Base(name), m, msg)
			}
		}
	}
	// The README alone mentions well over a hundred commands; far fewer
	// means the extraction broke and the test checks nothing.
	if total < 100 {
		t.Errorf("found %d tabforge command mentions; want at least 100", total)
	}
}

// TestREADMEFlagsCatchesDrift proves the checker rejects what it is meant
// to: an unknown flag, an unknown command, an unknown config key, and the
// same inside a synopsis alternative and a multi-line inline code span.
func TestREADMEFlagsCatchesDrift(t *testing.T) {
	bad := []string{
		"Run `tabforge train --data x.csv --no-such-flag` now.",
		"Run `tabforge trian --data x.csv`.",
		"Run `tabforge train --set no_such_key=1`.",
		"Or set `--set meta_lerning=true`.",
		"```\ntabforge models list [--name NAME] | show REF [--bogus]\n```",
		"See `tabforge bench corpus --manifest\n  M.csv --nope 3`.",
		"```sh\ntabforge retrain --name sales --data sales.csv --holdout x\n```",
	}
	for _, doc := range bad {
		ms := tabforgeMentions(doc)
		if len(ms) == 0 {
			t.Errorf("no mention found in %q", doc)
			continue
		}
		var msgs []string
		for _, m := range ms {
			msgs = append(msgs, checkMention(m)...)
		}
		if len(msgs) == 0 {
			t.Errorf("checker accepted %q; want an error", doc)
		}
	}
	good := "`tabforge models promote houses@latest --stage staging`, `--set KEY=VALUE` and\n```\ntabforge runs list | runs show RUN | runs rm RUN... [--dry-run]\n```"
	for _, m := range tabforgeMentions(good) {
		if msgs := checkMention(m); len(msgs) != 0 {
			t.Errorf("checker rejected %q: %v", m, msgs)
		}
	}
}

// TestDocLinks: every relative link in the README and docs/*.md names a
// file in the repository (a moved or renamed doc leaves a dead link that
// no other test notices).
func TestDocLinks(t *testing.T) {
	n := 0
	for name, text := range docs(t) {
		for _, m := range mdLink.FindAllStringSubmatch(text, -1) {
			target, _, _ := strings.Cut(m[1], "#")
			if target == "" || strings.Contains(target, "://") || strings.HasPrefix(target, "mailto:") {
				continue
			}
			n++
			if _, err := os.Stat(filepath.Join(filepath.Dir(name), target)); err != nil {
				t.Errorf("%s links to %s, which is not in the repository", filepath.Base(name), m[1])
			}
		}
	}
	if n == 0 {
		t.Error("found no relative links; the README links docs/quality-selection.md at least")
	}
}

var mdLink = regexp.MustCompile(`\]\(([^)\s]+)\)`)

// docs returns the text of the README and of docs/*.md by path.
func docs(t *testing.T) map[string]string {
	t.Helper()
	root := filepath.Join("..", "..")
	files, err := filepath.Glob(filepath.Join(root, "docs", "*.md"))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, name := range append(files, filepath.Join(root, "README.md")) {
		b, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		out[name] = string(b)
	}
	return out
}

// mention is one tabforge command line as written in a document.
type mention struct {
	words []string // shell words after "tabforge"
	// exact says the words are a runnable command (an sh block), so flag
	// values and --set values must parse too; elsewhere they are
	// placeholders such as N or FILE.
	exact bool
}

func (m mention) String() string { return "tabforge " + strings.Join(m.words, " ") }

var fence = regexp.MustCompile("(?m)^\\s*```([a-z]*)\\s*$")

// tabforgeMentions finds the tabforge commands in markdown text: lines of
// fenced blocks (sh blocks exact, other blocks as synopses whose " | "
// separates alternatives of one command group) and inline code spans.
func tabforgeMentions(doc string) []mention {
	var out []mention
	var prose strings.Builder
	lines := strings.Split(doc, "\n")
	for i := 0; i < len(lines); i++ {
		m := fence.FindStringSubmatch(lines[i])
		if m == nil {
			prose.WriteString(lines[i] + "\n")
			continue
		}
		lang := m[1]
		var block []string
		for i++; i < len(lines) && !fence.MatchString(lines[i]); i++ {
			block = append(block, lines[i])
		}
		if lang == "go" {
			continue
		}
		out = append(out, blockMentions(block, lang == "sh")...)
	}
	for _, span := range codeSpans(prose.String()) {
		if ws := commandWords(span); ws != nil {
			out = append(out, mention{words: ws})
		} else if strings.HasPrefix(span, "--set ") {
			// "--set meta_learning=true" in prose: --set is global, so
			// the key can be checked without knowing the command.
			out = append(out, mention{words: shellWords(span)})
		}
	}
	return out
}

// blockMentions returns the commands of a fenced block. Lines indented
// deeper than the first continue the one above, as in the synopsis.
func blockMentions(block []string, exact bool) []mention {
	var joined []string
	for _, l := range block {
		if i := strings.Index(l, "#"); i >= 0 && (i == 0 || l[i-1] == ' ') {
			l = l[:i]
		}
		if strings.TrimSpace(l) == "" {
			continue
		}
		if len(joined) > 0 && strings.HasPrefix(l, " ") {
			joined[len(joined)-1] += " " + strings.TrimSpace(l)
			continue
		}
		joined = append(joined, strings.TrimSpace(l))
	}
	var out []mention
	for _, l := range joined {
		ws := commandWords(l)
		if ws == nil {
			continue
		}
		if exact {
			out = append(out, mention{words: ws, exact: true})
			continue
		}
		// A synopsis: "tabforge runs list | runs show RUN | ..." or
		// "tabforge models list ... | show REF": an alternative that does
		// not start with the group's name belongs to the group.
		group := ws[0]
		var cur []string
		flush := func() {
			if len(cur) == 0 {
				return
			}
			if cur[0] != group {
				cur = append([]string{group}, cur...)
			}
			out = append(out, mention{words: cur})
			cur = nil
		}
		depth := 0 // "[--test-rows FILE | --as-of DATE]" is one alternative
		for _, w := range ws {
			if w == "|" && depth == 0 {
				flush()
				continue
			}
			depth += strings.Count(w, "[") - strings.Count(w, "]")
			cur = append(cur, w)
		}
		flush()
	}
	return out
}

// codeSpans returns the inline code spans of markdown prose; a span may
// continue over a line break, as in a wrapped paragraph.
func codeSpans(s string) []string {
	var out []string
	for {
		i := strings.IndexByte(s, '`')
		if i < 0 {
			return out
		}
		j := strings.IndexByte(s[i+1:], '`')
		if j < 0 {
			return out
		}
		out = append(out, strings.Join(strings.Fields(s[i+1:i+1+j]), " "))
		s = s[i+2+j:]
	}
}

// commandWords splits a line into shell words and returns those after a
// leading "tabforge" (or "go run ./cmd/tabforge", "./tabforge"), or nil.
func commandWords(line string) []string {
	ws := shellWords(line)
	for i, w := range ws {
		switch {
		case w == "tabforge" || w == "./tabforge":
		case w == "./cmd/tabforge" && i >= 2 && ws[i-2] == "go" && ws[i-1] == "run":
		default:
			continue
		}
		if i+1 < len(ws) && (i == 0 || w == "./cmd/tabforge") {
			return ws[i+1:]
		}
	}
	return nil
}

// shellWords splits s into shell words as bench corpus --variant does
// (bench.SplitArgs). A document's line may end in a continuation
// backslash or break a quoted value across lines; such a line is split at
// blanks, so its flags are still checked.
func shellWords(s string) []string {
	ws, err := bench.SplitArgs(strings.TrimSuffix(strings.TrimSpace(s), "\\"))
	if err != nil {
		return strings.Fields(s)
	}
	return ws
}

// checkMention resolves the command a mention names and returns a
// message for each problem: no such command, a flag it does not have, a
// --set key config does not know; for exact mentions also flag values and
// --set values that do not parse.
func checkMention(m mention) []string {
	a := &app{stdout: io.Discard, stderr: io.Discard}
	root := a.rootCommand()
	var words []string
	for _, w := range m.words {
		w = strings.Trim(w, "[]")
		if w == "--" || w == "&" || w == ">" || w == "|" {
			break // the rest is another program's (bench's train flags, a shell redirect)
		}
		words = append(words, w)
	}
	cmd, _, err := root.Find(words)
	if err != nil {
		return []string{fmt.Sprintf("no such command: %v", err)}
	}
	if cmd == root {
		if len(words) > 0 && !strings.HasPrefix(words[0], "-") {
			return []string{fmt.Sprintf("no such command %q", words[0])}
		}
	}
	var msgs []string
	for i, w := range words {
		if !strings.HasPrefix(w, "-") || w == "-" {
			continue
		}
		name, value, hasValue := strings.Cut(strings.TrimLeft(w, "-"), "=")
		f := cmd.Flag(name)
		if len(w) == 2 {
			f = shorthand(cmd, name)
		}
		if f == nil {
			msgs = append(msgs, fmt.Sprintf("%s has no flag %s", cmd.CommandPath(), w))
			continue
		}
		if name != "set" {
			continue
		}
		if !hasValue && i+1 < len(words) {
			value = words[i+1]
		}
		key, v, _ := strings.Cut(value, "=")
		if key == strings.ToUpper(key) {
			continue // a placeholder: --set KEY=VALUE
		}
		if !config.IsKey(key) {
			msgs = append(msgs, fmt.Sprintf("--set %s: not a config key", key))
		} else if m.exact {
			if err := config.Default().Set(key, v); err != nil {
				msgs = append(msgs, fmt.Sprintf("--set %s: %v", value, err))
			}
		}
	}
	if m.exact && len(msgs) == 0 {
		_, rest, _ := root.Find(words)
		if err := cmd.ParseFlags(rest); err != nil {
			msgs = append(msgs, fmt.Sprintf("flags do not parse: %v", err))
		}
	}
	return msgs
}

// shorthand returns cmd's flag (local or inherited) with the one-letter
// name s, or nil.
func shorthand(cmd *cobra.Command, s string) *pflag.Flag {
	if f := cmd.Flags().ShorthandLookup(s); f != nil {
		return f
	}
	return cmd.InheritedFlags().ShorthandLookup(s)
}
