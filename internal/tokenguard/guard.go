// Package tokenguard limits admin-token guesses per client address, for
// every server of tabforge that takes an admin token: the dashboard's
// write forms (package ui) and serve's admin endpoints (package serve).
// After Failures wrong tokens within Window of the first, an address is
// refused (429) until that window ends, whatever token it sends, so that
// a guesser cannot tell a right token from a wrong one meanwhile. An
// IPv6 client counts per /64; behind trusted reverse proxies the client
// is the one X-Forwarded-For names (Options.TrustedProxies).
package tokenguard

import (
	"fmt"
	"math"
	"net/http"
	"net/netip"
	"strconv"
	"sync"
	"time"
)

// Defaults of Options.Failures and Options.Window: five wrong tokens per
// quarter of an hour let an owner mistype and keep a guesser to 20 tries
// an hour per address.
const (
	DefaultFailures = 5
	DefaultWindow   = 15 * time.Minute
	// maxGuessers bounds the addresses a Guard holds (a few hundred
	// kilobytes). A new address finding it full makes it forget those
	// whose window has ended; if every window is still live, the new
	// address is refused (see reserve).
	maxGuessers = 4096
)

// Options configure a Guard; the zero value gives the defaults and
// trusts no proxy.
type Options struct {
	// Failures is how many wrong tokens an address may send within
	// Window of its first; 0 means DefaultFailures.
	Failures int
	// Window is how long an address's count lasts from its first try;
	// 0 means DefaultWindow.
	Window time.Duration
	// TrustedProxies are the reverse proxies in front of the server: a
	// request whose direct peer is one of them counts against the
	// rightmost address of its X-Forwarded-For header that is not one
	// of them (see clientAddr). nil reads no header: every client behind
	// a proxy shares its limit.
	TrustedProxies []netip.Prefix
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// A Guard limits admin-token guesses per client address. A try counts
// from when it starts (Reserve), so tries sent at once count too. A right
// token clears the address's count (Succeeded); other addresses are
// never affected. Behind a reverse proxy the address is the proxy's,
// shared by every client, unless the proxy is trusted. Safe for
// concurrent use.
type Guard struct {
	max     int
	window  time.Duration
	trusted []netip.Prefix
	now     func() time.Time

	mu      sync.Mutex
	clients map[netip.Prefix]*guesses
}

// guesses are one address's tries in its current window: wrong tokens
// and those still being checked.
type guesses struct {
	n     int
	start time.Time // of the window: the first try
}

// New returns a Guard holding no address.
func New(o Options) *Guard {
	g := &Guard{max: o.Failures, window: o.Window, trusted: o.TrustedProxies, now: o.Now, clients: map[netip.Prefix]*guesses{}}
	if g.max <= 0 {
		g.max = DefaultFailures
	}
	if g.window <= 0 {
		g.window = DefaultWindow
	}
	if g.now == nil {
		g.now = time.Now
	}
	return g
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

// A Try is one token try counted by Reserve.
type Try struct {
	c netip.Prefix
	x *guesses // the window the try counts in
}

// Refusal is Reserve's error: the client must wait before its next try.
type Refusal struct {
	Wait time.Duration
	// Full: the guard holds maxGuessers addresses in live windows, and
	// the client is not one of them.
	Full bool
}

func (e *Refusal) Error() string {
	why := "too many wrong admin tokens from this address"
	if e.Full {
		why = "too many addresses are trying admin tokens"
	}
	return fmt.Sprintf("%s: try again in %s", why, e.Wait.Round(time.Second))
}

// RetryAfter is the value of the Retry-After header for e: the wait in
// whole seconds, rounded up.
func (e *Refusal) RetryAfter() string {
	return strconv.Itoa(int(math.Ceil(e.Wait.Seconds())))
}

// Reserve counts a try of a token by r's client (clientAddr) before the
// token is compared, so that at most Failures tries per window are
// under way or done whatever their number at once (checking first and
// counting a failure after the body is read let any number of slow
// requests past the check). It returns a *Refusal if the client must
// wait instead. A right token then clears the count (Succeeded); a try
// that never gets to compare its token gives its place back (Release).
func (g *Guard) Reserve(r *http.Request) (Try, error) {
	return g.reserve(clientOf(clientAddr(r, g.trusted)))
}

// reserve is Reserve for the client c.
//
// A new address finding maxGuessers addresses in live windows is
// refused (Refusal.Full) until the earliest of them ends. Evicting the
// oldest instead would let a guesser holding more addresses than that
// (one IPv6 /48 holds 65,536 /64s) push its own spent windows out and
// start afresh, guessing without bound; refusing costs at most a spell
// without admin actions from new addresses (addresses already held
// still work), never a guess more.
func (g *Guard) reserve(c netip.Prefix) (Try, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	now := g.now()
	x := g.clients[c]
	if x == nil || !now.Before(x.start.Add(g.window)) {
		if x == nil && len(g.clients) >= maxGuessers {
			if next := g.forgetEnded(now); len(g.clients) >= maxGuessers {
				return Try{}, &Refusal{Wait: next.Sub(now), Full: true}
			}
		}
		x = &guesses{start: now}
		g.clients[c] = x
	}
	if x.n >= g.max {
		return Try{}, &Refusal{Wait: x.start.Add(g.window).Sub(now)}
	}
	x.n++
	return Try{c: c, x: x}, nil
}

// Release gives back a try whose token was not compared (its request
// was refused first), unless its window has since been cleared or
// replaced.
func (g *Guard) Release(t Try) {
	g.mu.Lock()
	defer g.mu.Unlock()
	x := t.x
	if x == nil || g.clients[t.c] != x {
		return
	}
	if x.n--; x.n <= 0 {
		delete(g.clients, t.c)
	}
}

// Succeeded clears the count of t's client: its token was right.
func (g *Guard) Succeeded(t Try) {
	g.mu.Lock()
	defer g.mu.Unlock()
	delete(g.clients, t.c)
}

// forgetEnded drops the addresses whose window has ended and returns
// when the earliest of the others ends; g.mu is held.
func (g *Guard) forgetEnded(now time.Time) (next time.Time) {
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
