package dist

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// Units of a driver that names its build (Options.CodeVersion) travel on
// a subject of their own, tabforge.build.TAG.KIND in the BuildsStream,
// where TAG is a hash of the build's name; each build's workers pull them
// through a durable consumer of their own (workers-TAG) filtered to that
// subject. A worker of another build never receives them, so in a mixed
// fleet (a rolling upgrade) the units of each driver go to the workers of
// its build, whichever worker asks first. JetStream filters by subject
// only, and every other way to hand a unit on spends one of its
// MaxDeliver deliveries (a nak is a delivery), so a unit bounced between
// workers of the wrong build would end up given up. When no worker of
// its build is alive the driver fails (ErrNoWorkers, naming both builds)
// within Options.WaitWorkers instead of publishing units nobody pulls.
//
// Units of a driver that names no build (an older tabforge, or a library
// user) keep the subject and the single shared consumer earlier builds
// use (StreamName, ConsumerName). Those are left exactly as the previous
// builds created them: a work-queue stream cannot have a filtered
// consumer beside an unfiltered one, and builds of 2026-12-04/05 reset
// the shared consumer's settings on every dial (they would clear a
// filter the new consumers rely on), so the per-build consumers live in
// a stream of their own. Every worker pulls the shared consumer too, as
// before, except that a worker naming a build leaves it alone while a
// worker announcing no build (an older one) is alive: the shared subject
// also carries units of the builds of 2026-12-07, which named their build
// in the message only, and such a worker may be of their build.
const (
	BuildsStream = "TABFORGE_BUILD_UNITS" // the work-queue stream of units that name their build
	buildSubject = "tabforge.build."      // + build tag + "." + kind
)

// buildConsumerIdle is how long a build's consumer lives with no worker
// pulling from it: workers pull every few seconds, and every build ever
// run (development builds are named by their executable's hash) would
// otherwise leave one on the server for good. A worker that finds its
// consumer gone creates it again (Worker.tend), and units published for
// it meanwhile wait in the stream.
const buildConsumerIdle = time.Hour

// buildTag is the subject token and consumer-name suffix of the build
// named code: build names hold spaces, dots and plus signs, which
// subjects and consumer names may not.
func buildTag(code string) string {
	h := sha256.Sum256([]byte(code))
	return hex.EncodeToString(h[:8])
}

// buildConsumerName is the durable consumer of the workers of build code.
func buildConsumerName(code string) string { return ConsumerName + "-" + buildTag(code) }

// unitSubjectOf is the subject a driver of build code publishes a unit of
// kind on.
func unitSubjectOf(code, kind string) string {
	if code == "" {
		return unitSubject + kind
	}
	return buildSubject + buildTag(code) + "." + kind
}

// buildConsumer returns the consumer of the workers of build code,
// creating it if it is missing.
func (c *conn) buildConsumer(ctx context.Context, code string) (jetstream.Consumer, error) {
	name := buildConsumerName(code)
	cons, err := consumer(ctx, c.builds, c.locks, c.holder, jetstream.ConsumerConfig{
		Durable: name, AckPolicy: jetstream.AckExplicitPolicy, AckWait: AckWait,
		MaxDeliver: MaxDeliver, MaxAckPending: -1, FilterSubject: buildSubject + buildTag(code) + ".>",
		InactiveThreshold: buildConsumerIdle,
	})
	if err != nil {
		return nil, fmt.Errorf("dist: consumer %s of build %s: %w", name, code, err)
	}
	return cons, nil
}

// ofBuild returns the workers that pull the units of a driver of build
// code: those announcing that build, or, for a driver naming none, all.
func ofBuild(ws []Heartbeat, code string) []Heartbeat {
	if code == "" {
		return ws
	}
	var out []Heartbeat
	for _, w := range ws {
		if w.Code == code {
			out = append(out, w)
		}
	}
	return out
}

// otherBuilds describes the builds of workers ws, none of which is the
// driver's, for an error: "no build named (an older tabforge) (1
// worker), tabforge 1.1+aaa (2 workers)".
func otherBuilds(ws []Heartbeat) string {
	count := map[string]int{}
	for _, w := range ws {
		count[w.Code]++
	}
	var parts []string
	for code, n := range count {
		name := code
		if code == "" {
			name = "no build named (an older tabforge)"
		}
		parts = append(parts, fmt.Sprintf("%s (%d %s)", name, n, plural(n, "worker")))
	}
	slices.Sort(parts)
	return strings.Join(parts, ", ")
}

func plural(n int, word string) string {
	if n == 1 {
		return word
	}
	return word + "s"
}

// olderAlive reports whether a worker other than self that announces no
// build is alive: it pulls the shared consumer.
func olderAlive(ws []Heartbeat, self string) bool {
	for _, w := range ws {
		if w.Code == "" && w.ID != self {
			return true
		}
	}
	return false
}
