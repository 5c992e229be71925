package tokenguard

import (
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// clientAddr is the address r's admin-token guesses count against. It
// is r's direct peer, unless that peer is in trusted (a reverse proxy in
// front of the server, Options.TrustedProxies); then it is the
// rightmost address of X-Forwarded-For that is not in trusted. Each
// proxy appends the address it got the request from, so the entries
// right of the first untrusted one were written by trusted proxies and
// that one names the hop that reached them; entries further left are
// whatever that hop sent, a client's forgery included, and are never
// read. An entry that is no address (a proxy's "unknown") ends the walk
// at the nearest trusted hop, which then counts as the client: a guesser
// cannot get a fresh limit by sending one. With no trusted proxies no
// header is read.
func clientAddr(r *http.Request, trusted []netip.Prefix) netip.Addr {
	peer := peerAddr(r.RemoteAddr)
	if !isTrusted(peer, trusted) {
		return peer
	}
	hops := forwardedFor(r.Header)
	for i := len(hops) - 1; i >= 0; i-- {
		a, ok := parseHop(hops[i])
		if !ok {
			return peer
		}
		if !isTrusted(a, trusted) {
			return a
		}
		peer = a
	}
	return peer
}

// peerAddr is the IP address of a request's RemoteAddr (host:port), IPv4
// unmapped; the zero Addr if it holds none.
func peerAddr(remoteAddr string) netip.Addr {
	host, _, err := net.SplitHostPort(remoteAddr)
	if err != nil {
		host = remoteAddr
	}
	a, err := netip.ParseAddr(host)
	if err != nil {
		return netip.Addr{}
	}
	return a.Unmap().WithZone("")
}

func isTrusted(a netip.Addr, trusted []netip.Prefix) bool {
	if !a.IsValid() {
		return false
	}
	for _, p := range trusted {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// forwardedFor lists the hops of every X-Forwarded-For line of h, in
// order: proxies that add a line of their own (HAProxy) and those that
// append to the last (nginx) give the same list.
func forwardedFor(h http.Header) []string {
	var hops []string
	for _, line := range h.Values("X-Forwarded-For") {
		hops = append(hops, strings.Split(line, ",")...)
	}
	return hops
}

// parseHop reads one X-Forwarded-For entry: an IP address, possibly
// with a port (192.0.2.1:4711, [2001:db8::1]:4711) or in brackets.
func parseHop(s string) (netip.Addr, bool) {
	s = strings.TrimSpace(s)
	a, err := netip.ParseAddr(s)
	if err != nil {
		ap, perr := netip.ParseAddrPort(s)
		if perr != nil {
			inner, ok := strings.CutPrefix(s, "[")
			if inner, ok2 := strings.CutSuffix(inner, "]"); ok && ok2 {
				return parseHop(inner)
			}
			return netip.Addr{}, false
		}
		a = ap.Addr()
	}
	return a.Unmap().WithZone(""), true
}
