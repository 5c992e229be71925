package main

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestDoctorSQLiteFix: doctor's fix for an SQLite store it cannot open
// fits the cause. It always said "make its directory writable", also for
// a path naming a directory and for a file that is not a database.
func TestDoctorSQLiteFix(t *testing.T) {
	dir := t.TempDir()
	notDB := filepath.Join(dir, "notes.db")
	if err := os.WriteFile(notDB, []byte("not a database, but a file of notes\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name, path, fix string
	}{
		{"directory", dir, "the path is a directory: name a file in it"},
		{"not a database", notDB, "the file is not a readable SQLite database"},
		{"under a file", filepath.Join(file, "tf.db"), "make its directory writable"},
		// It was told to check permissions and locks.
		{"damaged database", damagedStore(t, dir), "the SQLite database is damaged: restore it from a backup"},
	} {
		t.Run(c.name, func(t *testing.T) {
			before, _ := os.ReadFile(notDB)
			code, out, _ := tabforge(t, dir, "doctor", "--store", "sqlite://"+c.path)
			if code != 1 || !strings.Contains(out, "cannot be opened") || !strings.Contains(out, "fix: "+c.fix) {
				t.Errorf("exit %d\n%s; want 1 and the fix %q", code, out, c.fix)
			}
			if after, _ := os.ReadFile(notDB); string(after) != string(before) {
				t.Error("doctor changed the file that is not a database")
			}
		})
	}
}

// TestSQLiteFixOfADatabase: a file that is an SQLite database but does
// not open (permissions, a lock) is not to be restored from a backup.
func TestSQLiteFixOfADatabase(t *testing.T) {
	db := filepath.Join(t.TempDir(), "tf.db")
	if err := os.WriteFile(db, append([]byte("SQLite format 3\x00"), make([]byte, 84)...), 0o644); err != nil {
		t.Fatal(err)
	}
	if fix := sqliteFix(db, nil); strings.Contains(fix, "restore") || !strings.Contains(fix, "permissions") {
		t.Errorf("sqliteFix(a database) = %q; want permissions or a lock named, no restore", fix)
	}
}

// TestDoctorAbsentStore: doctor on an SQLite store that does not exist
// says so and leaves nothing behind. It created the file (and its
// directories) and reported "is writable", so a mistyped path passed as
// a healthy store and stayed as a new, empty one.
func TestDoctorAbsentStore(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "typo", "tf.db")
	code, out, errs := tabforge(t, dir, "doctor", "--store", "sqlite://"+path)
	if code != 0 || !strings.Contains(out, "sqlite store "+path+" does not exist yet") {
		t.Errorf("doctor of an absent store: exit %d\n%s%s; want 0 and that it does not exist yet", code, out, errs)
	}
	if _, err := os.Stat(filepath.Join(dir, "typo")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("doctor created the store's directory (%v)", err)
	}
}

// TestDoctorDamagedPages: doctor finds an SQLite store that opens but
// whose pages are damaged (a failing disk, a torn copy), which every
// command reading it fails on ("database disk image is malformed"). It
// said "no problems found": its check only wrote a row.
func TestDoctorDamagedPages(t *testing.T) {
	dir := t.TempDir()
	path := trainedStore(t, dir, "pages.db")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	const page = 4096 // SQLite's default page size
	if len(b) < 8*page {
		t.Fatalf("the store has %d bytes; want at least 8 pages to damage the middle of", len(b))
	}
	// Pages 3 and 4 (0-based), past the header page and the schema's.
	for i := 3 * page; i < 5*page; i++ {
		b[i] = 0xff
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	if code, _, errs := tabforge(t, dir, "runs", "list", "--store", "sqlite://"+path); code == 0 {
		t.Fatalf("runs list on the damaged store succeeded; the damage missed the data (%s)", errs)
	}
	code, out, errs := tabforge(t, dir, "doctor", "--store", "sqlite://"+path)
	if code != 1 || !strings.Contains(out, "sqlite store "+path+" is damaged") || !strings.Contains(out, "fix: the SQLite database is damaged: restore it from a backup") {
		t.Errorf("doctor of a store with damaged pages: exit %d\n%s%s; want 1, the damage and its fix", code, out, errs)
	}
}

// trainedStore returns the path of a new SQLite store, name in dir,
// holding a run's records.
func trainedStore(t *testing.T, dir, name string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	code, _, errs := tabforge(t, dir, "train", "--store", "sqlite://"+path, "--data", testdata("midwest.csv"), "--target", "percbelowpoverty",
		"--models", "ridge", "--cv-folds", "0", "--out", filepath.Join(dir, "models"), "--set", "artifacts="+filepath.Join(dir, "artifacts"))
	if code > 1 { // 1: the gates may fail; the store is written all the same
		t.Fatalf("train: exit %d\n%s", code, errs)
	}
	return path
}

// damagedStore returns the path of an SQLite store in dir holding some
// runs' records, cut to its first half as a copy interrupted midway
// would be: its header is SQLite's, its content is not whole.
func damagedStore(t *testing.T, dir string) string {
	t.Helper()
	path := trainedStore(t, dir, "damaged.db")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b[:len(b)/2], 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}
