package dist

import (
	"errors"
	"net"
	"os/exec"
	"strconv"
	"strings"
	"testing"
)

// TestSpawnPorts: a server asked for any port reports the one it took,
// two of them never share one, and a server asked for a port another
// process holds fails saying so instead of handing out the other's URL.
func TestSpawnPorts(t *testing.T) {
	if _, err := exec.LookPath("nats-server"); err != nil {
		t.Skip("nats-server is not installed (apt-get install nats-server; scripts/test.sh does)")
	}
	a, err := Spawn("", 0)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Shutdown()
	b, err := Spawn("", 0)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Shutdown()
	if a.URL() == b.URL() {
		t.Fatalf("two servers on %s", a.URL())
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	port := l.Addr().(*net.TCPAddr).Port
	s, err := Spawn("", port)
	if err == nil {
		s.Shutdown()
		t.Fatalf("a server on taken port %d started at %s", port, s.URL())
	}
	if !strings.Contains(err.Error(), strconv.Itoa(port)) || !strings.Contains(err.Error(), "exited") {
		t.Errorf("taken port: %v; want an error naming the port and saying the server exited", err)
	}
	if errors.Is(err, ErrNoEmbedded) {
		t.Errorf("taken port reported as a missing server: %v", err)
	}
}
