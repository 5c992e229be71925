//go:build natsembed

package dist

import (
	"fmt"
	"os"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

// Embed starts a JetStream server inside this process on 127.0.0.1:port
// (0: a free port) with file storage in a new temporary directory,
// removed by Shutdown. Only builds with the natsembed tag have it; see
// ErrNoEmbedded.
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
	return &Server{url: s.ClientURL(), stop: func() {
		s.Shutdown()
		s.WaitForShutdown()
		os.RemoveAll(dir)
	}}, nil
}
