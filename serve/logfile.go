package serve

import (
	"fmt"
	"os"
	"sync"
)

// A LogFile is a prediction log file (Options.PredictionLog) opened for
// appending, which Server.ReopenLog opens again under its name. That is
// rotation by renaming, as logrotate's default and nginx's USR1 or
// Prometheus-style daemons' SIGHUP do it: rename the file, then have the
// server reopen; every line lands whole in exactly one of the two files.
// Rotation by copytruncate works too, since writes append: they go on at
// the start of the truncated file (losing the lines written between the
// copy and the truncation).
type LogFile struct {
	path string
	mu   sync.Mutex
	f    *os.File
}

// OpenLogFile opens path for appending, creating it if need be.
func OpenLogFile(path string) (*LogFile, error) {
	f, err := openAppend(path)
	if err != nil {
		return nil, err
	}
	return &LogFile{path: path, f: f}, nil
}

func openAppend(path string) (*os.File, error) {
	return os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
}

// Write appends p to the file open now.
func (l *LogFile) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.f.Write(p)
}

// Reopen opens the file's path again (creating it, after a rename) and
// closes the file open until now. If the path cannot be opened, writes
// go on to the old file and the error is returned.
func (l *LogFile) Reopen() error {
	f, err := openAppend(l.path)
	if err != nil {
		return fmt.Errorf("reopen %s: %w", l.path, err)
	}
	l.mu.Lock()
	old := l.f
	l.f = f
	l.mu.Unlock()
	return old.Close()
}

// Close closes the file.
func (l *LogFile) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.f.Close()
}
