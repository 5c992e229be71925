package continuous

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/tabforge/tabforge/frame"
	"github.com/tabforge/tabforge/registry"
	"github.com/tabforge/tabforge/store"
)

// WatchOptions say what Watch watches and how it retrains.
type WatchOptions struct {
	// Name is the registered model retrained on each new file.
	Name string
	// Dir is the directory watched for the data files frame.ReadFile
	// reads (.csv, .csv.gz, .parquet, .pq; not its subdirectories; names
	// starting with "." are ignored).
	Dir string
	// Every is the time between scans; 0 means one hour.
	Every time.Duration
	// Settle skips files modified less than this long ago, which may
	// still be being written; 0 takes every file.
	Settle time.Duration
	// Policy is the retrain policy (the command's is DefaultPolicy, as
	// retrain's and backtest's).
	Policy Policy
	// Logger gets a line per file handled; nil discards.
	Logger *slog.Logger
}

// Handled is a data version Watch retrained on, kept in the store so
// that a restarted watch does not handle it again.
type Handled struct {
	Name     string    `json:"name"`
	Path     string    `json:"path"`
	Hash     string    `json:"hash"` // SHA-256 of the file's bytes
	Time     time.Time `json:"time"`
	Decision string    `json:"decision"` // promote, keep or error
	Reason   string    `json:"reason"`
	// ChallengerVersion is the challenger trained, if any.
	ChallengerVersion string `json:"challenger_version,omitempty"`
}

// watchKind is the store's record kind of Handled; keys are NAME/HASH.
const watchKind = "watch"

// claimPrefix starts the keys of the leases (store.ClaimKind, see
// store.Claim) watchers sharing a store take on a data version while they
// retrain on it; claimLease is how long one outlives a killed watcher.
const (
	claimPrefix = "watch/"
	claimLease  = 30 * time.Second
)

// Watch scans o.Dir every o.Every and retrains o.Name on each file whose
// content was not handled before (see WatchOnce), until ctx ends; it then
// returns ctx's error. A failed first scan (the store unavailable, o.Name
// without a production version, an unusable work directory) is returned,
// so that a watcher set up wrong stops at once; a later scan's failure
// (an outage, a full disk) is logged and the next scan tries again, so
// that a watcher that has run does not die of a passing fault.
func Watch(ctx context.Context, env Env, state store.Claimer, o WatchOptions) error {
	every := cmp.Or(o.Every, time.Hour)
	// The hashes of files seen unchanged since the last scan are kept, so
	// a directory of daily files is read once, not once per scan.
	hashes := newHashMemo()
	for scan := 0; ; scan++ {
		if _, err := watchOnce(ctx, env, state, o, hashes); err != nil {
			if scan == 0 || ctx.Err() != nil {
				return err
			}
			if o.Logger != nil {
				o.Logger.Warn("watch: scan failed; the next scan retries", "err", err, "every", every)
			}
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(every):
		}
	}
}

// WatchOnce scans o.Dir once and retrains o.Name on each data file whose
// content hash is not yet among the name's handled versions in state,
// oldest file first, recording each as handled as soon as its retrain
// is done: a file handled is never handled again, a copy or a renamed
// file neither, a file rewritten with new content is new. Watchers
// sharing a store split the files: each data version is retrained by the
// one that claims it first (see store.Claim), and skipped by the others
// while that one is at work. A file the
// retrain fails on is recorded with decision "error" (its content will
// not get better by trying again); a cancelled ctx, an unavailable
// store, a name without a production version, a champion that cannot be
// loaded (its artifact gone or damaged, the artifact store not the one
// it is in) or a file system error outside the data file (the work
// directory's, the artifact store's)
// stops the scan without recording the file at hand, which the next scan
// retries. It returns the files handled now.
func WatchOnce(ctx context.Context, env Env, state store.Claimer, o WatchOptions) ([]Handled, error) {
	return watchOnce(ctx, env, state, o, newHashMemo())
}

// watchOnce is WatchOnce reading file hashes through hashes.
func watchOnce(ctx context.Context, env Env, state store.Claimer, o WatchOptions, hashes *hashMemo) ([]Handled, error) {
	files, settling, err := dataFiles(o.Dir, o.Settle)
	if err != nil {
		return nil, err
	}
	hashes.keepOnly(files)
	if len(files) > 0 {
		// A wrong name, or one without a champion yet, is the watcher's
		// mistake, not the files': none is marked handled.
		if _, err := env.Registry.Production(ctx, o.Name); err != nil {
			return nil, fmt.Errorf("watch %s: %w", o.Name, err)
		}
	}
	if o.Logger != nil {
		// Said, not skipped silently: a file copied in just before a
		// --once scan would otherwise read as "0 new data versions".
		for _, f := range settling {
			if info, err := os.Stat(f); err == nil && time.Until(info.ModTime()) > time.Second {
				// Copied with its times from a machine whose clock is
				// ahead: it waits until then, which the settle message
				// would not explain.
				o.Logger.Warn("watch: file modified in the future (a clock ahead of this one?); left until that time plus the settle time, or touch it to take it now",
					"file", f, "modified", info.ModTime().UTC().Format(time.RFC3339), "settle", o.Settle)
				continue
			}
			o.Logger.Info("watch: file modified within the settle time; left for the next scan", "file", f, "settle", o.Settle)
		}
	}
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	var done []Handled
	for _, path := range files {
		h, err := handle(ctx, env, state, o, path, hashes, log)
		if err != nil {
			return done, err
		}
		if h != nil {
			done = append(done, *h)
		}
	}
	return done, nil
}

// handle retrains o.Name on the data file at path unless its content was
// handled already or another watcher is at work on it (nil, nil), and
// records it as handled.
func handle(ctx context.Context, env Env, state store.Claimer, o WatchOptions, path string, hashes *hashMemo, log *slog.Logger) (*Handled, error) {
	hash, err := hashes.hash(path)
	if errors.Is(err, fs.ErrNotExist) {
		log.Info("watch: file removed since the scan listed it; skipped", "file", path)
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	key := o.Name + "/" + hash
	handled := func() (bool, error) {
		_, err := state.GetRecord(ctx, watchKind, key)
		if err == nil || errors.Is(err, store.ErrNotFound) {
			return err == nil, nil
		}
		return false, fmt.Errorf("watch: %w", err)
	}
	if ok, err := handled(); ok || err != nil {
		return nil, err
	}
	// The retrain runs under the claim's context: a watcher that stalled
	// past its claim while another took the version over stops.
	ctx, lease, err := store.Claim(ctx, state, store.ClaimKind, claimPrefix+key, claimLease, log)
	if errors.Is(err, store.ErrClaimed) {
		// A watcher killed mid-retrain leaves its claim until the lease
		// runs out, so this may be no live watcher at all.
		log.Info("watch: this data is claimed by another watcher, or by a stopped one until its lease expires; skipped, the next scan retries it",
			"file", path, "hash", hash[:12], "lease", claimLease)
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("watch: %w", err)
	}
	defer lease.Release()
	// A watcher that finished this version just before the claim has
	// recorded it by now.
	if ok, err := handled(); ok || err != nil {
		return nil, err
	}
	h := Handled{Name: o.Name, Path: path, Hash: hash, Time: time.Now().UTC()}
	// What the retrain publishes (the challenger, its promotion, the
	// decision) and the record of the version handled are written only
	// under the claim: a watcher stalled past it writes none of them
	// after the watcher that took the version over.
	fenv := env
	fenv.Registry = env.Registry.Fenced(lease.Fence())
	d, err := Retrain(ctx, fenv, o.Name, path, o.Policy)
	switch {
	case errors.Is(context.Cause(ctx), store.ErrLeaseLost), errors.Is(err, store.ErrLeaseLost):
		// Stalled past the claim: the watcher that took it over records it.
		log.Warn("watch: claim lost while retraining; left to the watcher that took it over", "file", path, "err", cmp.Or(context.Cause(ctx), err))
		return nil, nil
	case ctx.Err() != nil:
		return nil, ctx.Err()
	case errors.Is(err, store.ErrUnavailable), errors.Is(err, registry.ErrNoProduction), errors.Is(err, errChampionLoad), envFault(err, path):
		return nil, fmt.Errorf("watch: %s: %w", path, err) // not recorded: the file is not at fault
	case errors.Is(err, fs.ErrNotExist):
		log.Info("watch: file removed before its retrain read it; skipped", "file", path)
		return nil, nil
	case err != nil:
		h.Decision, h.Reason = "error", err.Error()
	default:
		h.Decision, h.Reason, h.ChallengerVersion = d.Decision, d.Reason, d.ChallengerVersion
	}
	return recordHandled(ctx, state, key, lease, h, log)
}

// recordHandled records h as the version handled under key, fenced by
// lease, and logs its decision; a lease lost before the record was written
// leaves the version to the watcher that took it over (nil, nil).
func recordHandled(ctx context.Context, state store.Swapper, key string, lease *store.Lease, h Handled, log *slog.Logger) (*Handled, error) {
	b, err := json.Marshal(h)
	if err != nil {
		return nil, err
	}
	if err := store.PutRecordFenced(ctx, state, watchKind, key, b, lease.Fence()); errors.Is(err, store.ErrLeaseLost) {
		log.Warn("watch: claim lost before the version was recorded; left to the watcher that took it over", "file", h.Path, "err", err)
		return nil, nil
	} else if err != nil {
		return nil, fmt.Errorf("watch: %w", err)
	}
	if h.Decision == "error" {
		// A warning: the file is recorded and never retried, so an
		// operator filtering the log for problems must see it (it was an
		// INFO line like any decision).
		log.Warn("watch: retrain failed; the version is recorded as an error and not retried", "name", h.Name, "file", h.Path, "hash", h.Hash[:12], "err", h.Reason)
		return &h, nil
	}
	log.Info("watch: retrained", "name", h.Name, "file", h.Path, "hash", h.Hash[:12], "decision", h.Decision, "reason", h.Reason)
	return &h, nil
}

// envFault says whether err is a file system error on a file other than
// the data file at data: the work directory or the artifact store (a full
// disk, a missing or read-only directory, the champion's artifact gone).
// Recording it as the data version's error would skip that version for
// good, while the same data retrains once the environment is fixed.
func envFault(err error, data string) bool {
	var pe *fs.PathError
	return errors.As(err, &pe) && filepath.Clean(pe.Path) != filepath.Clean(data)
}

// Watched returns the data versions handled for name, oldest first.
func Watched(ctx context.Context, state store.Records, name string) ([]Handled, error) {
	recs, err := state.ListRecords(ctx, watchKind, name+"/")
	if err != nil {
		return nil, fmt.Errorf("watch: %w", err)
	}
	out := make([]Handled, 0, len(recs))
	for _, r := range recs {
		var h Handled
		if err := json.Unmarshal(r.Value, &h); err != nil {
			return nil, fmt.Errorf("watch: record %s: %w", r.Key, err)
		}
		out = append(out, h)
	}
	slices.SortStableFunc(out, func(a, b Handled) int { return a.Time.Compare(b.Time) })
	return out, nil
}

// dataFiles lists dir's data files (frame.IsDataFile), oldest modification
// first (then by name), leaving out those modified within settle, which
// it returns apart, by name.
func dataFiles(dir string, settle time.Duration) (files, settling []string, err error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, nil, fmt.Errorf("watch: %w", err)
	}
	type file struct {
		path string
		mod  time.Time
	}
	var found []file
	for _, e := range entries {
		name := e.Name()
		if !e.Type().IsRegular() || strings.HasPrefix(name, ".") || !frame.IsDataFile(name) {
			continue
		}
		info, err := e.Info()
		if err != nil {
			continue // removed since the listing
		}
		path := filepath.Join(dir, name)
		if settle > 0 && time.Since(info.ModTime()) < settle {
			settling = append(settling, path)
			continue
		}
		found = append(found, file{path, info.ModTime()})
	}
	slices.SortFunc(found, func(a, b file) int {
		return cmp.Or(a.mod.Compare(b.mod), strings.Compare(a.path, b.path))
	})
	files = make([]string, len(found))
	for i, f := range found {
		files[i] = f.path
	}
	return files, settling, nil
}

// fileHash is the hex SHA-256 of the file's bytes.
func fileHash(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", fmt.Errorf("watch: %w", err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", fmt.Errorf("watch: %s: %w", path, err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// hashMemo remembers the content hash of each file by its path, size and
// modification time, so that a file unchanged since the previous scan is
// not read again. It holds the files of the last scan only.
type hashMemo struct {
	seen  map[string]statHash
	reads int // files hashed, for tests
}

type statHash struct {
	size int64
	mod  time.Time
	hash string
}

func newHashMemo() *hashMemo { return &hashMemo{seen: map[string]statHash{}} }

// hash returns the file's content hash, reading the file only if its size
// or modification time differ from when it was last hashed.
func (m *hashMemo) hash(path string) (string, error) {
	info, err := os.Stat(path)
	if err != nil {
		return "", fmt.Errorf("watch: %w", err)
	}
	if e, ok := m.seen[path]; ok && e.size == info.Size() && e.mod.Equal(info.ModTime()) {
		return e.hash, nil
	}
	h, err := fileHash(path)
	if err != nil {
		return "", err
	}
	m.reads++
	// A file written while it was read may show the same stat after; only
	// a stat taken again, unchanged, vouches for the hash.
	if after, err := os.Stat(path); err == nil && after.Size() == info.Size() && after.ModTime().Equal(info.ModTime()) {
		m.seen[path] = statHash{size: info.Size(), mod: info.ModTime(), hash: h}
	}
	return h, nil
}

// keepOnly forgets the files not in paths (removed from the directory),
// so the memo does not grow with every file that ever passed through.
func (m *hashMemo) keepOnly(paths []string) {
	keep := make(map[string]bool, len(paths))
	for _, p := range paths {
		keep[p] = true
	}
	for p := range m.seen {
		if !keep[p] {
			delete(m.seen, p)
		}
	}
}
