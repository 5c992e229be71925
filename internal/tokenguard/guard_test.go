package tokenguard

import (
	"errors"
	"net/netip"
	"testing"
	"time"
)

func TestClientOf(t *testing.T) {
	for _, tt := range []struct{ a, b string }{
		{"192.0.2.1:1", "192.0.2.1:2"},
		{"[2001:db8::1]:1", "[2001:db8::ffff]:2"},
		{"[::ffff:192.0.2.1]:1", "192.0.2.1:3"},
	} {
		a, b := clientOf(peerAddr(tt.a)), clientOf(peerAddr(tt.b))
		if a != b {
			t.Errorf("clientOf(%s) = %v, clientOf(%s) = %v; want one client", tt.a, a, tt.b, b)
		}
	}
	differ := func(a, b string) bool { return clientOf(peerAddr(a)) != clientOf(peerAddr(b)) }
	if !differ("192.0.2.1:1", "192.0.2.2:1") || !differ("[2001:db8:0:1::1]:1", "[2001:db8:0:2::1]:1") {
		t.Error("clientOf joins different hosts")
	}
}

// TestTokenGuardCap: the guard never holds more than maxGuessers
// addresses. While every held address's window is live a new address is
// refused until the earliest window ends, and one already held keeps
// trying; a right token or an ended window makes room. The guard used to
// add the new address anyway, past its cap, once it found no ended
// window to forget.
func TestTokenGuardCap(t *testing.T) {
	start := time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC)
	now := start
	g := New(Options{Failures: 2, Window: time.Minute, Now: func() time.Time { return now }})
	addr := func(i int) netip.Prefix {
		return clientOf(netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)}))
	}
	// try reserves a try of address i: how long it must wait instead
	// (0: the try counts) and whether the guard was full.
	try := func(i int) (time.Duration, bool) {
		t.Helper()
		_, err := g.reserve(addr(i))
		if err == nil {
			return 0, false
		}
		r, ok := errors.AsType[*Refusal](err)
		if !ok {
			t.Fatalf("reserve(address %d) = %v; want a *Refusal or nil", i, err)
		}
		return r.Wait, r.Full
	}
	for i := range maxGuessers {
		if i == maxGuessers/2 {
			now = now.Add(10 * time.Second) // the second half starts later
		}
		if wait, _ := try(i); wait != 0 {
			t.Fatalf("address %d of %d: refused for %v; want a try", i, maxGuessers, wait)
		}
	}
	wait, full := try(maxGuessers)
	if n := len(g.clients); n != maxGuessers || !full || wait != 50*time.Second {
		// 50 s: the first half's windows began 10 s ago.
		t.Errorf("a new address with %d held: %d held, refused for %v (full %v); want %d, 50s, full",
			maxGuessers, n, wait, full, maxGuessers)
	}
	if wait, _ := try(0); wait != 0 {
		t.Errorf("an address already held: refused for %v; want its second try", wait)
	}
	g.Succeeded(Try{c: addr(1)})
	if wait, _ := try(maxGuessers); wait != 0 || len(g.clients) != maxGuessers {
		t.Errorf("a new address after a right token freed a place: refused for %v, %d held; want a try, %d", wait, len(g.clients), maxGuessers)
	}
	if wait, _ := try(maxGuessers + 1); wait == 0 {
		t.Errorf("a new address with %d held again: a try; want a refusal", maxGuessers)
	}
	// The first half's windows have ended: they are forgotten, and the
	// second half, the address let in above and the new one are held.
	now = start.Add(time.Minute)
	if wait, _ := try(maxGuessers + 1); wait != 0 || len(g.clients) != maxGuessers/2+2 {
		t.Errorf("a new address once half the windows ended: refused for %v, %d held; want a try, %d", wait, len(g.clients), maxGuessers/2+2)
	}
}

func TestRefusal(t *testing.T) {
	for _, tt := range []struct {
		wait time.Duration
		want string
	}{{50 * time.Second, "50"}, {49*time.Second + time.Millisecond, "50"}, {time.Millisecond, "1"}} {
		if got := (&Refusal{Wait: tt.wait}).RetryAfter(); got != tt.want {
			t.Errorf("Refusal{Wait: %v}.RetryAfter() = %q; want %q", tt.wait, got, tt.want)
		}
	}
}
