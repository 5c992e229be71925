package artifact

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// openers lists the buckets every test runs against.
func openers(t *testing.T) map[string]func() *Store {
	return map[string]func() *Store{
		"file": func() *Store { return mustOpen(t, "file://"+filepath.ToSlash(t.TempDir())) },
		"dir":  func() *Store { return mustOpen(t, filepath.Join(t.TempDir(), "nested", "artifacts")) },
		"mem":  func() *Store { return mustOpen(t, "mem://") },
	}
}

func mustOpen(t *testing.T, loc string) *Store {
	t.Helper()
	s, err := Open(context.Background(), loc)
	if err != nil {
		t.Fatalf("Open(%q): %v", loc, err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestPutGetRoundTrip(t *testing.T) {
	ctx := context.Background()
	for name, open := range openers(t) {
		t.Run(name, func(t *testing.T) {
			s := open()
			data := bytes.Repeat([]byte("tabforge model bytes\x00\x01"), 1000)
			ref, err := s.Put(ctx, "models/v1/model.tfm", data)
			if err != nil {
				t.Fatal(err)
			}
			sum := sha256.Sum256(data)
			if ref.SHA256 != hex.EncodeToString(sum[:]) || ref.Size != int64(len(data)) || ref.Key != "models/v1/model.tfm" || ref.URL != s.URL() {
				t.Errorf("Put ref = %+v", ref)
			}
			if !strings.HasSuffix(ref.String(), "/models/v1/model.tfm") {
				t.Errorf("ref.String() = %q", ref.String())
			}
			for _, get := range []func() ([]byte, error){
				func() ([]byte, error) { return s.Get(ctx, ref.Key) },
				func() ([]byte, error) { return s.Load(ctx, ref) },
			} {
				got, err := get()
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(got, data) {
					t.Fatalf("read %d bytes, want the %d written", len(got), len(data))
				}
			}
			// Empty content is a valid artifact too.
			if _, err := s.Put(ctx, "empty", nil); err != nil {
				t.Fatal(err)
			}
			if got, err := s.Get(ctx, "empty"); err != nil || len(got) != 0 {
				t.Errorf("Get(empty) = %q, %v", got, err)
			}
		})
	}
}

func TestMissing(t *testing.T) {
	ctx := context.Background()
	for name, open := range openers(t) {
		t.Run(name, func(t *testing.T) {
			s := open()
			if _, err := s.Get(ctx, "nope/model.tfm"); !errors.Is(err, ErrNotFound) {
				t.Errorf("Get(missing) error = %v; want ErrNotFound", err)
			}
			if _, err := s.Load(ctx, Ref{Key: "nope", SHA256: "00"}); !errors.Is(err, ErrNotFound) {
				t.Errorf("Load(missing) error = %v; want ErrNotFound", err)
			}
			if err := s.Delete(ctx, "nope"); err != nil {
				t.Errorf("Delete(missing) = %v", err)
			}
		})
	}
}

// TestCorruptionDetected changes stored bytes behind the store's back
// and checks that both Get (bucket metadata) and Load (the recorded Ref)
// refuse them with a *ChecksumError.
func TestCorruptionDetected(t *testing.T) {
	ctx := context.Background()
	data := []byte("TABFORGE pretend model payload with enough bytes to flip one")
	cases := []struct {
		name    string
		corrupt func(t *testing.T, s *Store, ref Ref)
	}{
		{"flipped byte on disk", func(t *testing.T, s *Store, ref Ref) {
			p := localPath(t, s, ref.Key)
			b, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			b[10] ^= 0xff
			if err := os.WriteFile(p, b, 0o644); err != nil {
				t.Fatal(err)
			}
		}},
		{"truncated on disk", func(t *testing.T, s *Store, ref Ref) {
			if err := os.Truncate(localPath(t, s, ref.Key), 7); err != nil {
				t.Fatal(err)
			}
		}},
		{"replaced in bucket keeping old checksum", func(t *testing.T, s *Store, ref Ref) {
			// A writer that bypasses Put but copies the old metadata: the
			// bucket's checksum no longer matches its content.
			err := s.bucket.Write(ctx, ref.Key, []byte("something else"), map[string]string{metaSHA256: ref.SHA256})
			if err != nil {
				t.Fatal(err)
			}
		}},
	}
	for _, tc := range cases {
		for name, open := range openers(t) {
			if name == "mem" && strings.Contains(tc.name, "disk") {
				continue
			}
			t.Run(tc.name+"/"+name, func(t *testing.T) {
				s := open()
				ref, err := s.Put(ctx, "models/m/model.tfm", data)
				if err != nil {
					t.Fatal(err)
				}
				tc.corrupt(t, s, ref)
				for what, get := range map[string]func() ([]byte, error){
					"Get":  func() ([]byte, error) { return s.Get(ctx, ref.Key) },
					"Load": func() ([]byte, error) { return s.Load(ctx, ref) },
				} {
					got, err := get()
					var ce *ChecksumError
					if !errors.As(err, &ce) || !errors.Is(err, ErrChecksum) {
						t.Fatalf("%s of corrupt artifact = %d bytes, %v; want *ChecksumError", what, len(got), err)
					}
					if ce.Want != ref.SHA256 || ce.Got == ref.SHA256 || ce.Key != ref.Key {
						t.Errorf("%s: ChecksumError = %+v", what, ce)
					}
					if got != nil {
						t.Errorf("%s returned data with the error", what)
					}
					if !strings.Contains(err.Error(), "checksum mismatch") || strings.Contains(err.Error(), "\n") {
						t.Errorf("%s error is not one clear line: %q", what, err)
					}
				}
			})
		}
	}
}

// TestLoadIgnoresBucketMetadata rewrites both content and metadata, as a
// careless tool might: Get trusts the bucket and succeeds, Load trusts the
// recorded Ref and refuses.
func TestLoadIgnoresBucketMetadata(t *testing.T) {
	ctx := context.Background()
	s := mustOpen(t, "mem://")
	ref, err := s.Put(ctx, "k", []byte("original"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Put(ctx, "k", []byte("replacement")); err != nil {
		t.Fatal(err)
	}
	if got, err := s.Get(ctx, "k"); err != nil || string(got) != "replacement" {
		t.Errorf("Get = %q, %v", got, err)
	}
	if _, err := s.Load(ctx, ref); !errors.Is(err, ErrChecksum) {
		t.Errorf("Load(old ref) error = %v; want ErrChecksum", err)
	}
}

func TestNoChecksum(t *testing.T) {
	ctx := context.Background()
	s := mustOpen(t, "mem://")
	if err := s.bucket.Write(ctx, "foreign", []byte("x"), nil); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get(ctx, "foreign"); !errors.Is(err, ErrNoChecksum) {
		t.Errorf("Get(foreign) error = %v; want ErrNoChecksum", err)
	}
	if _, err := s.Load(ctx, Ref{Key: "foreign"}); !errors.Is(err, ErrNoChecksum) {
		t.Errorf("Load(ref without checksum) error = %v; want ErrNoChecksum", err)
	}
}

// TestWriteIsAtomic rewrites an object over and over with two payloads
// while readers read the file itself: every read must be one payload
// whole, never a mix or a prefix, and no temporary file may be left.
func TestWriteIsAtomic(t *testing.T) {
	ctx := context.Background()
	s := mustOpen(t, t.TempDir())
	payloads := [][]byte{bytes.Repeat([]byte("old "), 1<<18), bytes.Repeat([]byte("new!"), 1<<19)}
	key := "models/x/model.tfm"
	if _, err := s.Put(ctx, key, payloads[0]); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	errs := make(chan error, 1)
	go func() {
		defer close(done)
		for i := range 40 {
			if _, err := s.Put(ctx, key, payloads[i%2]); err != nil {
				errs <- err
				return
			}
		}
	}()
	path := localPath(t, s, key)
	reads := 0
	for running := true; running; reads++ {
		select {
		case <-done:
			running = false
		default:
		}
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("read during writes: %v", err)
		}
		if !bytes.Equal(b, payloads[0]) && !bytes.Equal(b, payloads[1]) {
			t.Fatalf("read %d bytes that are neither payload: a partial write was visible", len(b))
		}
	}
	select {
	case err := <-errs:
		t.Fatal(err)
	default:
	}
	if got, err := s.Get(ctx, key); err != nil || !bytes.Equal(got, payloads[1]) {
		t.Fatalf("after the writes, Get = %d bytes, %v; want the last payload", len(got), err)
	}
	var files []string
	filepath.WalkDir(strings.TrimPrefix(s.URL(), "file://"), func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			files = append(files, filepath.Base(p))
		}
		return nil
	})
	if len(files) != 2 { // model.tfm and its model.tfm.attrs metadata
		t.Errorf("files on disk after %d writes and %d reads = %v; want only the object and its metadata", 40, reads, files)
	}
}

func localPath(t *testing.T, s *Store, key string) string {
	t.Helper()
	dir, ok := strings.CutPrefix(s.URL(), "file://")
	if !ok {
		t.Fatalf("%s is not a local bucket", s.URL())
	}
	return filepath.Join(filepath.FromSlash(dir), filepath.FromSlash(key))
}

func TestOpenAndKeyErrors(t *testing.T) {
	ctx := context.Background()
	cases := []struct {
		loc  string
		want string
	}{
		{"", "empty location"},
		{"s3://bucket", "needs -tags s3"},
		{"gs://bucket", "needs -tags gcs"},
		{"hdfs://nn:8020/x", "needs -tags hdfs"},
		{"ftp://host/x", `scheme "ftp" is not in this build`},
		{"file://relative/dir", "file:///absolute/dir"},
		{"file:///tmp/x?metadata=skip", "without options"},
	}
	for _, tc := range cases {
		_, err := Open(ctx, tc.loc)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			if tc.want == "needs -tags s3" && s3Opener() != nil || tc.want == "needs -tags gcs" && gcsOpener() != nil || tc.want == "needs -tags hdfs" && hdfsOpener() != nil {
				continue // compiled in by a build tag
			}
			t.Errorf("Open(%q) error = %v; want it to mention %q", tc.loc, err, tc.want)
		}
	}
	s := mustOpen(t, "mem://")
	for _, key := range []string{"", "/abs", "a/../b", "a//b", "dir/", "x.attrs", "./x"} {
		if _, err := s.Put(ctx, key, []byte("x")); err == nil {
			t.Errorf("Put(%q) succeeded; want a key error", key)
		}
	}
}

func TestPlainPathIsCanonicalFileURL(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	s := mustOpen(t, ".tabforge/artifacts")
	want := "file://" + filepath.ToSlash(filepath.Join(dir, ".tabforge", "artifacts"))
	if s.URL() != want {
		t.Errorf("URL() = %q; want %q", s.URL(), want)
	}
	if fi, err := os.Stat(filepath.Join(dir, ".tabforge", "artifacts")); err != nil || !fi.IsDir() {
		t.Errorf("directory not created: %v", err)
	}
	// The canonical URL opens the same bucket.
	ctx := context.Background()
	ref, err := s.Put(ctx, "r/report.html", []byte("<html>"))
	if err != nil {
		t.Fatal(err)
	}
	again := mustOpen(t, s.URL())
	if got, err := again.Load(ctx, ref); err != nil || string(got) != "<html>" {
		t.Errorf("Load via canonical URL = %q, %v", got, err)
	}
	// A Ref from another bucket is refused rather than read from the wrong place.
	other := mustOpen(t, "mem://")
	if _, err := other.Load(ctx, ref); err == nil {
		t.Error("Load of a ref from another bucket succeeded")
	}
}

// TestReadsFileblobLayout opens a directory written by the gocloud
// fileblob driver that tabforge used before (testdata/fileblob, made with
// fileblob.WriteAll and the same sha256 metadata): its objects read and
// verify unchanged.
func TestReadsFileblobLayout(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "arts")
	if err := os.CopyFS(dir, os.DirFS(filepath.Join("testdata", "fileblob"))); err != nil {
		t.Fatal(err)
	}
	s := mustOpen(t, dir)
	got, err := s.Get(ctx, "models/v1/model.tfm")
	if err != nil {
		t.Fatal(err)
	}
	want, _ := os.ReadFile(filepath.Join("testdata", "fileblob", "models", "v1", "model.tfm"))
	if !bytes.Equal(got, want) {
		t.Errorf("Get = %q, want %q", got, want)
	}
	sum := sha256.Sum256(want)
	if _, err := s.Load(ctx, Ref{Key: "models/v1/model.tfm", SHA256: hex.EncodeToString(sum[:])}); err != nil {
		t.Errorf("Load with the recorded checksum: %v", err)
	}
}
