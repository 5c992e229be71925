package ui

import (
	"net/netip"
	"sync"
	"time"
)

// Defaults of the admin-token guess limit (Options.TokenFailures and
// Options.TokenWindow): five wrong tokens per quarter of an hour let
// an owner mistype and keep a guesser to 20 tries an hour per address.
const (
	defaultTokenFailures = 5
	defaultTokenWindow   = 15 * time.Minute
	// maxGuessers is how many addresses the guard holds before a new
	// one makes it forget those whose window has ended.
	maxGuessers = 4096
)

// tokenGuard limits admin-token guesses per client address: after max
// failures within window of the first, the address is refused (429)
// until that window ends, whatever token it sends, so that a guesser
// cannot tell a right token from a wrong one meanwhile. A try counts
// from when it starts (see reserve), so tries sent at once count too. A
// right token clears the address's count; other addresses are never
// affected. Behind a reverse proxy the address is the proxy's, shared by
// every client, unless the proxy is trusted (see clientAddr). Safe for
// concurrent use.
type tokenGuard struct {
	max    int
	window time.Duration
	now    func() time.Time

	mu      sync.Mutex
	clients map[netip.Prefix]*guesses
}

// guesses are one address's tries in its current window: wrong tokens
// and those still being checked.
type guesses struct {
	n     int
	start time.Time // of the window: the first try
}

func newTokenGuard(max int, window time.Duration) *tokenGuard {
	if max <= 0 {
		max = defaultTokenFailures
	}
	if window <= 0 {
		window = defaultTokenWindow
	}
	return &tokenGuard{max: max, window: window, now: time.Now, clients: map[netip.Prefix]*guesses{}}
}

// clientOf is the bucket an address's guesses count in: the IPv4
// address, or the IPv6 /64 (one host usually holds a whole /64). The
// zero Addr (a peer that is no address) is one bucket of its own.
func clientOf(a netip.Addr) netip.Prefix {
	if !a.IsValid() {
		return netip.Prefix{}
	}
	bits := 32
	if a.Is6() {
		bits = 64
	}
	p, _ := a.Prefix(bits) // bits fit a's family: no error
	return p
}

// attempt is one token try reserved by tokenGuard.reserve.
type attempt struct {
	c netip.Prefix
	x *guesses // the window the try counts in
}

// reserve counts a try of a token from c before the token is compared,
// so that at most max tries per window are under way or done whatever
// their number at once (checking first and counting a failure after the
// form is read let any number of slow requests past the check). It
// returns how long c must wait instead; 0 means the try is counted. A
// right token then clears the count (succeeded); a try that never gets
// to compare its token gives its place back (release).
func (g *tokenGuard) reserve(c netip.Prefix) (attempt, time.Duration) {
	g.mu.Lock()
	defer g.mu.Unlock()
	now := g.now()
	x := g.clients[c]
	if x == nil || !now.Before(x.start.Add(g.window)) {
		if len(g.clients) >= maxGuessers {
			g.forgetEnded(now)
		}
		x = &guesses{start: now}
		g.clients[c] = x
	}
	if x.n >= g.max {
		return attempt{}, x.start.Add(g.window).Sub(now)
	}
	x.n++
	return attempt{c: c, x: x}, 0
}

// release gives back a try whose token was not compared (its form was
// refused), unless its window has since been cleared or replaced.
func (g *tokenGuard) release(a attempt) {
	g.mu.Lock()
	defer g.mu.Unlock()
	x := a.x
	if g.clients[a.c] != x {
		return
	}
	if x.n--; x.n <= 0 {
		delete(g.clients, a.c)
	}
}

// succeeded clears c's failures.
func (g *tokenGuard) succeeded(c netip.Prefix) {
	g.mu.Lock()
	defer g.mu.Unlock()
	delete(g.clients, c)
}

// forgetEnded drops the addresses whose window has ended; g.mu is held.
func (g *tokenGuard) forgetEnded(now time.Time) {
	for c, x := range g.clients {
		if !now.Before(x.start.Add(g.window)) {
			delete(g.clients, c)
		}
	}
}
