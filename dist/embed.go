package dist

import (
	"fmt"
	"os"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

// Server is a JetStream server embedded in this process, listening on a
// loopback port so that local workers can join.
type Server struct {
	s   *server.Server
	dir string
}

// Embed starts a JetStream server on 127.0.0.1:port (0: a free port)
// with file storage in a new temporary directory, removed by Shutdown.
func Embed(port int) (*Server, error) {
	dir, err := os.MkdirTemp("", "tabforge-nats-")
	if err != nil {
		return nil, fmt.Errorf("dist: embedded server: %w", err)
	}
	if port == 0 {
		port = server.RANDOM_PORT
	}
	s, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: port, JetStream: true, StoreDir: dir,
		NoSigs: true, NoLog: true, ServerName: "tabforge-embedded"})
	if err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("dist: embedded server: %w", err)
	}
	go s.Start()
	if !s.ReadyForConnections(10 * time.Second) {
		s.Shutdown()
		os.RemoveAll(dir)
		return nil, fmt.Errorf("dist: embedded server did not start within 10s")
	}
	return &Server{s: s, dir: dir}, nil
}

// URL is the nats:// address workers connect to.
func (s *Server) URL() string { return s.s.ClientURL() }

// Shutdown stops the server and removes its storage.
func (s *Server) Shutdown() {
	s.s.Shutdown()
	s.s.WaitForShutdown()
	os.RemoveAll(s.dir)
}
