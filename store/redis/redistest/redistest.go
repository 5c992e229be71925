// Package redistest runs real redis-server processes for tests: a
// private instance on a free loopback port with its own directory and
// appendonly on, which a test may kill -9 and restart on the same data.
package redistest

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	redigo "github.com/gomodule/redigo/redis"
)

// EnvURL names the environment variable scripts/test.sh sets to the URL
// of the Redis it started for the whole suite.
const EnvURL = "TABFORGE_TEST_REDIS"

// Server is one redis-server process.
type Server struct {
	Addr string // host:port
	Dir  string // data directory (the AOF lives here)
	cmd  *exec.Cmd
	done chan struct{}
}

// Binary returns the redis-server path, skipping t if there is none.
func Binary(t testing.TB) string {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		t.Skip("redis-server not installed (apt-get install redis-server)")
	}
	return bin
}

// Start starts a private redis-server with appendonly on and every write
// fsynced (appendfsync always), stopped when the test ends. The default
// everysec may lose the last second of writes to a kill -9, which tests
// that kill Redis right after a write would see as a lost record.
func Start(t testing.TB) *Server {
	t.Helper()
	s := &Server{Dir: t.TempDir()}
	t.Cleanup(s.Stop)
	// A free port may be taken by another process before the server
	// binds it; a new one is then as good.
	var err error
	for range 3 {
		s.Addr = freeAddr(t)
		if err = s.start(t); err == nil {
			return s
		}
		s.Kill()
	}
	t.Fatal(err)
	return nil
}

func freeAddr(t testing.TB) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// start starts the server on s.Addr and waits until it answers.
func (s *Server) start(t testing.TB) error {
	t.Helper()
	_, port, _ := net.SplitHostPort(s.Addr)
	s.cmd = exec.Command(Binary(t), "--port", port, "--bind", "127.0.0.1", "--dir", s.Dir,
		"--appendonly", "yes", "--appendfsync", "always", "--save", "", "--daemonize", "no", "--logfile", filepath.Join(s.Dir, "redis.log"))
	if err := s.cmd.Start(); err != nil {
		s.cmd = nil // no process: Kill has nothing to wait for
		return fmt.Errorf("start redis-server: %w", err)
	}
	s.done = make(chan struct{})
	go func(cmd *exec.Cmd, done chan struct{}) { cmd.Wait(); close(done) }(s.cmd, s.done)
	deadline := time.Now().Add(10 * time.Second)
	for {
		pid, err := serverPid(s.Addr)
		if err == nil && pid == s.cmd.Process.Pid {
			return nil
		}
		select {
		case <-s.done:
			log, _ := os.ReadFile(filepath.Join(s.Dir, "redis.log"))
			s.cmd = nil
			return fmt.Errorf("redis-server on %s exited: %s", s.Addr, lastLines(string(log), 5))
		default:
		}
		if err == nil {
			// Another process's server holds the port: ours will exit.
			err = fmt.Errorf("the server answering is process %d, not ours (%d)", pid, s.cmd.Process.Pid)
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("redis-server on %s did not answer: %w", s.Addr, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// serverPid is the process id of the Redis server answering on addr:
// a port picked free may be taken by another test's server before ours
// binds it, and that one answers PING just as well. A server still
// loading its AOF is not ready: it answers INFO but refuses commands
// with LOADING.
func serverPid(addr string) (int, error) {
	// Whatever holds the port may accept and never answer.
	c, err := redigo.Dial("tcp", addr, redigo.DialConnectTimeout(200*time.Millisecond),
		redigo.DialReadTimeout(time.Second), redigo.DialWriteTimeout(time.Second))
	if err != nil {
		return 0, err
	}
	defer c.Close()
	info, err := redigo.String(c.Do("INFO", "server"))
	if err != nil {
		return 0, err
	}
	if _, err := c.Do("PING"); err != nil {
		return 0, err
	}
	for _, line := range strings.Split(info, "\n") {
		if v, ok := strings.CutPrefix(line, "process_id:"); ok {
			return strconv.Atoi(strings.TrimSpace(v))
		}
	}
	return 0, errors.New("INFO server has no process_id")
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// URL returns the server's redis:// URL for database 0.
func (s *Server) URL() string { return "redis://" + s.Addr + "/0" }

// Pid returns the server's process id.
func (s *Server) Pid() int { return s.cmd.Process.Pid }

// Kill kills the server with SIGKILL, as a crash would, and waits for it
// to exit.
func (s *Server) Kill() {
	if s.cmd == nil {
		return
	}
	s.cmd.Process.Kill()
	<-s.done
	s.cmd = nil
}

// Restart starts the server again on the same port and directory, so it
// reloads its AOF.
func (s *Server) Restart(t testing.TB) {
	t.Helper()
	s.Kill()
	if err := s.start(t); err != nil {
		t.Fatal(err)
	}
}

// RestartEmpty kills the server and starts it again on the same port
// with its data files removed, as a Redis without persistence comes
// back from a crash, or an empty one replaces it at the same address.
func (s *Server) RestartEmpty(t testing.TB) {
	t.Helper()
	s.Kill()
	for _, name := range []string{"appendonlydir", "appendonly.aof", "dump.rdb"} {
		if err := os.RemoveAll(filepath.Join(s.Dir, name)); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.start(t); err != nil {
		t.Fatal(err)
	}
}

// Stop ends the server.
func (s *Server) Stop() { s.Kill() }

// URL returns the URL of a Redis database for t with a key prefix of its
// own: the suite's server from $TABFORGE_TEST_REDIS, or else a private
// server started for t. The test's keys are deleted when it ends.
func URL(t testing.TB) string {
	t.Helper()
	base := os.Getenv(EnvURL)
	if base == "" {
		base = Start(t).URL()
	}
	b := make([]byte, 6)
	rand.Read(b)
	prefix := "test-" + hex.EncodeToString(b) + ":"
	t.Cleanup(func() {
		c, err := redigo.DialURL(base)
		if err != nil {
			return
		}
		defer c.Close()
		for cursor := int64(0); ; {
			v, err := redigo.Values(c.Do("SCAN", cursor, "MATCH", prefix+"*", "COUNT", 1000))
			if err != nil || len(v) != 2 {
				return
			}
			cursor, _ = redigo.Int64(v[0], nil)
			keys, _ := redigo.Values(v[1], nil)
			if len(keys) > 0 {
				c.Do("DEL", keys...)
			}
			if cursor == 0 {
				return
			}
		}
	})
	sep := "?"
	if strings.Contains(base, "?") {
		sep = "&"
	}
	return fmt.Sprintf("%s%sprefix=%s", base, sep, prefix)
}
