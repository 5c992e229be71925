package registry

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"runtime/debug"
)

// CodeVersion names the code that is running, for model identities:
// release plus the VCS revision the binary was built from, when the build
// recorded one and the tree was clean; otherwise release plus a hash of
// the executable itself. Development builds (go run, go test, builds with
// -buildvcs=false or from a modified tree) thus get a new code version
// whenever their code changes, and the same one when it does not (Go
// builds are reproducible), so a retrained model is never mistaken for an
// old one.
func CodeVersion(release string) (string, error) {
	if info, ok := debug.ReadBuildInfo(); ok {
		var rev string
		modified := false
		for _, s := range info.Settings {
			switch s.Key {
			case "vcs.revision":
				rev = s.Value
			case "vcs.modified":
				modified = s.Value == "true"
			}
		}
		if rev != "" && !modified {
			return release + "+" + rev[:min(12, len(rev))], nil
		}
	}
	exe, err := os.Executable()
	if err != nil {
		return "", fmt.Errorf("registry: code version: %w", err)
	}
	f, err := os.Open(exe)
	if err != nil {
		return "", fmt.Errorf("registry: code version: %w", err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", fmt.Errorf("registry: code version: hash %s: %w", exe, err)
	}
	return release + "+exe." + hex.EncodeToString(h.Sum(nil))[:12], nil
}
