package main

import (
	"os/exec"
	"strings"
	"testing"
)

// TestLeanDependencies keeps the default binary free of the cloud and RPC
// stacks: S3, GCS and HDFS come only with their build tags, Parquet is
// read and written with parquet-go (arrow-go, which cost 23 MB of the
// stripped binary, is only a test dependency that checks our files
// against Apache's reference Go implementation), Redis is spoken through
// redigo (go-redis's 500-method clients cannot be pruned by the linker
// once html/template is in, and cost 8 MB), and the NATS server
// (16 MB) is embedded only with the natsembed tag: the NATS client is in.
func TestLeanDependencies(t *testing.T) {
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command on PATH")
	}
	out, err := exec.Command(goBin, "list", "-deps", ".").Output()
	if err != nil {
		t.Fatalf("go list -deps: %v", err)
	}
	banned := []string{"google.golang.org/grpc", "go.opentelemetry.io/", "cloud.google.com/", "github.com/aws/",
		"gocloud.dev/", "github.com/chromedp/", "github.com/apache/arrow-go/", "github.com/redis/go-redis/",
		"github.com/nats-io/nats-server/"}
	for _, pkg := range strings.Fields(string(out)) {
		for _, b := range banned {
			if strings.HasPrefix(pkg, b) {
				t.Errorf("the default build imports %s", pkg)
			}
		}
	}
}
