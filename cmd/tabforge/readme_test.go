package main

import (
	"bufio"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestREADMECommands keeps the README true: every command in its ```sh
// blocks names a tabforge subcommand that exists, its flags parse on that
// subcommand, and every repository file it names exists. Commands are not
// run here (the first one trains; other tests cover that path).
func TestREADMECommands(t *testing.T) {
	root := filepath.Join("..", "..")
	f, err := os.Open(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cmds := shellCommands(t, f)
	if len(cmds) < 3 {
		t.Fatalf("found %d commands in the README's sh blocks; want the two main ones and more", len(cmds))
	}
	for _, line := range cmds {
		args := strings.Fields(line)
		for _, a := range args {
			if strings.HasPrefix(a, "testdata/") || strings.HasPrefix(a, "./") {
				if _, err := os.Stat(filepath.Join(root, a)); err != nil {
					t.Errorf("README command %q names %s, which is not in the repository", line, a)
				}
			}
		}
		switch {
		case strings.HasPrefix(line, "go run ./cmd/tabforge "):
			args = args[3:]
		case strings.HasPrefix(line, "tabforge "):
			args = args[1:]
		default:
			continue
		}
		a := &app{stdout: io.Discard, stderr: io.Discard}
		cmd, rest, err := a.rootCommand().Find(args)
		if err != nil || !cmd.Runnable() {
			t.Errorf("README command %q: no such tabforge command (%v)", line, err)
			continue
		}
		if err := cmd.ParseFlags(rest); err != nil {
			t.Errorf("README command %q: flags do not parse on %q: %v", line, cmd.CommandPath(), err)
		}
	}
}

// shellCommands returns the command lines of the ```sh blocks in r,
// without trailing comments.
func shellCommands(t *testing.T, r io.Reader) []string {
	t.Helper()
	var out []string
	in := false
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "```sh":
			in = true
		case strings.HasPrefix(line, "```"):
			in = false
		case in:
			if i := strings.Index(line, "#"); i >= 0 {
				line = strings.TrimSpace(line[:i])
			}
			if line != "" {
				out = append(out, line)
			}
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestGuard checks that a panic escaping a command becomes one line and
// exit code 70, while normal exit codes pass through.
func TestGuard(t *testing.T) {
	var errb strings.Builder
	if code := guard(&errb, func() int { return 2 }); code != 2 || errb.Len() != 0 {
		t.Errorf("guard of a usage error = %d, %q; want 2 and no output", code, errb.String())
	}
	t.Setenv("TABFORGE_DEBUG", "")
	code := guard(&errb, func() int {
		var m map[string]int
		m["x"]++ // a nil map write: a real runtime panic
		return 0
	})
	if code != exitInternal {
		t.Errorf("guard of a panic = %d; want %d", code, exitInternal)
	}
	got := errb.String()
	if strings.Count(got, "\n") != 1 || !strings.Contains(got, "internal error") || !strings.Contains(got, "nil map") {
		t.Errorf("guard printed %q; want one line naming the internal error", got)
	}
}

// TestUsageExitCodes: every kind of bad usage exits 2 with one line naming
// the help to read; a command group without a subcommand prints its help.
func TestUsageExitCodes(t *testing.T) {
	dir := t.TempDir()
	cases := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"bogus"}, 2, `unknown command "bogus"`},
		{[]string{"models", "bogus"}, 2, `unknown command "bogus" for "tabforge models"`},
		{[]string{"runs", "show"}, 2, "accepts 1 arg(s), received 0"},
		{[]string{"runs", "list", "extra"}, 2, "unknown command"},
		{[]string{"studies", "show", "a", "b"}, 2, "received 2"},
		{[]string{"train", "--cv-folds", "x"}, 2, "invalid argument"},
		{[]string{"train", "--nope"}, 2, "unknown flag"},
		{[]string{"train", "--data", "x.csv", "--target", "y", "--set", "no_such_key=1"}, 2, "no_such_key"},
		{[]string{"predict", "--model", "m.tfm", "--data", "x.csv", "--out", "p.csv", "--sep", "::"}, 2, "separator"},
		{[]string{"runs"}, 0, ""},
	}
	for _, tc := range cases {
		code, out, errs := cli(t, dir, tc.args...)
		if code != tc.code || !strings.Contains(errs, tc.want) {
			t.Errorf("tabforge %s: exit %d, stderr %q; want exit %d naming %q", strings.Join(tc.args, " "), code, errs, tc.code, tc.want)
		}
		if tc.code == 0 && !strings.Contains(out, "Usage:") {
			t.Errorf("tabforge %s printed %q; want its help", strings.Join(tc.args, " "), out)
		}
	}
}
