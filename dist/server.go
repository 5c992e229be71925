package dist

import (
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"time"

	"github.com/nats-io/nats.go"
)

// ErrNoEmbedded reports a build without the embedded NATS server.
var ErrNoEmbedded = errors.New("this tabforge was built without the embedded NATS server (build with -tags natsembed)")

// Server is a JetStream server this process started: embedded (Embed)
// or a nats-server child process (Spawn). It listens on loopback so that
// local workers can join.
type Server struct {
	url  string
	stop func()
}

// URL is the nats:// address workers connect to.
func (s *Server) URL() string { return s.url }

// Shutdown stops the server and removes its storage.
func (s *Server) Shutdown() { s.stop() }

// Start starts a JetStream server on 127.0.0.1:port (0: a free port):
// the embedded one when the build has it, else the nats-server program
// on PATH.
func Start(port int) (*Server, error) {
	s, err := Embed(port)
	if errors.Is(err, ErrNoEmbedded) {
		return Spawn("", port)
	}
	return s, err
}

// Spawn runs the nats-server program bin ("" finds it on PATH) with
// JetStream and file storage in a new temporary directory on
// 127.0.0.1:port (0: a free port), and waits until it accepts clients.
func Spawn(bin string, port int) (*Server, error) {
	if bin == "" {
		var err error
		if bin, err = exec.LookPath("nats-server"); err != nil {
			return nil, fmt.Errorf("dist: %w; and no nats-server program is on PATH (apt-get install nats-server)", ErrNoEmbedded)
		}
	}
	// Take a free port (or check that port is free: a server already
	// there would answer for the one started here).
	l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
	if err != nil {
		return nil, fmt.Errorf("dist: nats-server: port %d: %w", port, err)
	}
	port = l.Addr().(*net.TCPAddr).Port
	l.Close()
	dir, err := os.MkdirTemp("", "tabforge-nats-")
	if err != nil {
		return nil, fmt.Errorf("dist: nats-server: %w", err)
	}
	cmd := exec.Command(bin, "-js", "-a", "127.0.0.1", "-p", strconv.Itoa(port), "-sd", dir)
	if err := cmd.Start(); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("dist: nats-server: %w", err)
	}
	s := &Server{url: fmt.Sprintf("nats://127.0.0.1:%d", port), stop: func() {
		cmd.Process.Kill()
		cmd.Wait()
		os.RemoveAll(dir)
	}}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		nc, err := nats.Connect(s.url)
		if err == nil {
			nc.Close()
			return s, nil
		}
		if time.Now().After(deadline) {
			s.stop()
			return nil, fmt.Errorf("dist: nats-server on port %d did not start within 10s: %w", port, err)
		}
	}
}
