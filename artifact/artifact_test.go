package artifact

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gocloud.dev/blob"
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
			err := s.bucket.WriteAll(ctx, ref.Key, []byte("something else"), &blob.WriterOptions{Metadata: map[string]string{metaSHA256: ref.SHA256}})
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
	if err := s.bucket.WriteAll(ctx, "foreign", []byte("x"), nil); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get(ctx, "foreign"); !errors.Is(err, ErrNoChecksum) {
		t.Errorf("Get(foreign) error = %v; want ErrNoChecksum", err)
	}
	if _, err := s.Load(ctx, Ref{Key: "foreign"}); !errors.Is(err, ErrNoChecksum) {
		t.Errorf("Load(ref without checksum) error = %v; want ErrNoChecksum", err)
	}
}

// failingReader returns n bytes, then an error: a write that dies half way.
type failingReader struct {
	r io.Reader
	n int
}

func (f *failingReader) Read(p []byte) (int, error) {
	if f.n <= 0 {
		return 0, errors.New("disk on fire")
	}
	p = p[:min(len(p), f.n)]
	n, err := f.r.Read(p)
	f.n -= n
	return n, err
}

// TestWriteIsAtomic kills a write half way: the previous object must stay
// whole and readable, and no partial or temporary file may be left.
func TestWriteIsAtomic(t *testing.T) {
	ctx := context.Background()
	for name, open := range openers(t) {
		t.Run(name, func(t *testing.T) {
			s := open()
			old := []byte("the old, complete model")
			if _, err := s.Put(ctx, "models/x/model.tfm", old); err != nil {
				t.Fatal(err)
			}
			before := listing(t, s)
			huge := bytes.Repeat([]byte("new"), 1<<20)
			sum := sha256.Sum256(huge)
			err := s.write(ctx, "models/x/model.tfm", &failingReader{r: bytes.NewReader(huge), n: len(huge) / 2}, hex.EncodeToString(sum[:]))
			if err == nil {
				t.Fatal("half-written Put succeeded")
			}
			got, err := s.Get(ctx, "models/x/model.tfm")
			if err != nil || !bytes.Equal(got, old) {
				t.Fatalf("after a failed write, Get = %q, %v; want the old object", got, err)
			}
			// A new key that fails half way must not appear at all.
			err = s.write(ctx, "models/y/model.tfm", &failingReader{r: bytes.NewReader(huge), n: 1000}, hex.EncodeToString(sum[:]))
			if err == nil {
				t.Fatal("half-written Put succeeded")
			}
			if ok, err := s.Exists(ctx, "models/y/model.tfm"); err != nil || ok {
				t.Errorf("Exists(half-written new key) = %v, %v", ok, err)
			}
			if after := listing(t, s); after != before {
				t.Errorf("bucket changed by failed writes:\nbefore %s\nafter  %s", before, after)
			}
			if strings.HasPrefix(s.URL(), "file://") {
				var files []string
				filepath.WalkDir(strings.TrimPrefix(s.URL(), "file://"), func(p string, d os.DirEntry, err error) error {
					if err == nil && !d.IsDir() {
						files = append(files, filepath.Base(p))
					}
					return nil
				})
				if len(files) != 2 { // model.tfm and its model.tfm.attrs metadata
					t.Errorf("files on disk after failed writes = %v; want only the object and its metadata", files)
				}
			}
		})
	}
}

func listing(t *testing.T, s *Store) string {
	t.Helper()
	var keys []string
	it := s.bucket.List(nil)
	for {
		o, err := it.Next(context.Background())
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, o.Key)
	}
	return strings.Join(keys, ",")
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
