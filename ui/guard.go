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
	// maxGuessers bounds the addresses the guard holds (a few hundred
	// kilobytes). A new address finding it full makes it forget those
	// whose window has ended; if every window is still live, the new
	// address is refused (see reserve).
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
//
// A new address finding maxGuessers addresses in live windows is
// refused (full) until the earliest of them ends. Evicting the oldest
// instead would let a guesser holding more addresses than that (one
// IPv6 /48 holds 65,536 /64s) push its own spent windows out and start
// afresh, guessing without bound; refusing costs at most a spell
// without write actions from new addresses (reads, addresses already
// held and the tabforge CLI still work), never a guess more.
func (g *tokenGuard) reserve(c netip.Prefix) (a attempt, wait time.Duration, full bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	now := g.now()
	x := g.clients[c]
	if x == nil || !now.Before(x.start.Add(g.window)) {
		if x == nil && len(g.clients) >= maxGuessers {
			if next := g.forgetEnded(now); len(g.clients) >= maxGuessers {
				return attempt{}, next.Sub(now), true
			}
		}
		x = &guesses{start: now}
		g.clients[c] = x
	}
	if x.n >= g.max {
		return attempt{}, x.start.Add(g.window).Sub(now), false
	}
	x.n++
	return attempt{c: c, x: x}, 0, false
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

// forgetEnded drops the addresses whose window has ended and returns
// when the earliest of the others ends; g.mu is held.
func (g *tokenGuard) forgetEnded(now time.Time) (next time.Time) {
	for c, x := range g.clients {
		end := x.start.Add(g.window)
		switch {
		case !now.Before(end):
			delete(g.clients, c)
		case next.IsZero() || end.Before(next):
			next = end
		}
	}
	return next
}
