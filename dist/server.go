package dist

import (
	"encoding/json"
	"errors"
	"fmt"
	neturl "net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
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

// Port is the loopback port the server listens on.
func (s *Server) Port() int {
	u, err := neturl.Parse(s.url)
	if err != nil {
		return 0
	}
	port, _ := strconv.Atoi(u.Port())
	return port
}

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
// JetStream and file storage in a new temporary directory, which
// Shutdown removes, on 127.0.0.1:port; see SpawnIn.
func Spawn(bin string, port int) (*Server, error) {
	dir, err := os.MkdirTemp("", "tabforge-nats-")
	if err != nil {
		return nil, fmt.Errorf("dist: nats-server: %w", err)
	}
	s, err := SpawnIn(bin, dir, port)
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	stop := s.stop
	s.stop = func() { stop(); os.RemoveAll(dir) }
	return s, nil
}

// SpawnIn runs the nats-server program bin ("" finds it on PATH) with
// JetStream and file storage in dir on 127.0.0.1:port, and waits until it
// accepts clients. With port 0 the server takes a free port itself and
// reports it in a ports file: choosing a free port here and handing it
// over would race with every other process picking one at the same
// moment, and a client would then talk to whichever server won the port.
// Shutdown stops the server as a host's restart would (SIGTERM) and
// leaves dir: a server spawned in it again on the same port (Port) comes
// back with the streams and buckets it had.
func SpawnIn(bin, dir string, port int) (*Server, error) {
	if bin == "" {
		var err error
		if bin, err = exec.LookPath("nats-server"); err != nil {
			return nil, fmt.Errorf("dist: %w; and no nats-server program is on PATH (apt-get install nats-server)", ErrNoEmbedded)
		}
	}
	p := strconv.Itoa(port)
	if port == 0 {
		p = "-1" // nats-server's "any free port"
	}
	cmd := exec.Command(bin, "-js", "-a", "127.0.0.1", "-p", p, "-sd", dir, "--ports_file_dir", dir)
	logPath := filepath.Join(dir, "nats-server.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, fmt.Errorf("dist: nats-server: %w", err)
	}
	cmd.Stderr = logFile
	err = cmd.Start()
	logFile.Close() // the child has its own descriptor
	if err != nil {
		return nil, fmt.Errorf("dist: nats-server: %w", err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	stop := func() {
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-exited
		}
	}
	url, err := awaitPorts(dir, cmd.Process.Pid, exited)
	if err != nil {
		log, _ := os.ReadFile(logPath)
		cmd.Process.Kill()
		<-exited
		return nil, fmt.Errorf("dist: nats-server on port %d: %w%s", port, err, lastLine(string(log)))
	}
	return &Server{url: url, stop: stop}, nil
}

// awaitPorts waits for the ports file the server with pid writes into dir
// once it listens, and returns its client URL once a client connects.
func awaitPorts(dir string, pid int, exited <-chan struct{}) (string, error) {
	deadline := time.Now().Add(10 * time.Second)
	for ; ; time.Sleep(20 * time.Millisecond) {
		select {
		case <-exited:
			return "", errors.New("the server exited")
		default:
		}
		if time.Now().After(deadline) {
			return "", errors.New("the server did not start within 10s")
		}
		names, _ := filepath.Glob(filepath.Join(dir, fmt.Sprintf("*_%d.ports", pid)))
		if len(names) == 0 {
			continue
		}
		b, err := os.ReadFile(names[0])
		var ports struct {
			Nats []string `json:"nats"`
		}
		if err != nil || json.Unmarshal(b, &ports) != nil || len(ports.Nats) == 0 {
			continue // still being written
		}
		nc, err := nats.Connect(ports.Nats[0])
		if err != nil {
			continue
		}
		nc.Close()
		return ports.Nats[0], nil
	}
}

// lastLine is the last line of a program's stderr, as ": line", or "".
func lastLine(s string) string {
	s = strings.TrimSpace(s)
	if s == "" {
		return ""
	}
	return ": " + s[strings.LastIndexByte(s, '\n')+1:]
}
