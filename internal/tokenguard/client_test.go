package tokenguard

import (
	"net/http"
	"net/http/httptest"
	"net/netip"
	"testing"
)

func TestClientAddr(t *testing.T) {
	trusted := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("2001:db8:f::/48")}
	for _, tt := range []struct {
		name, peer string
		xff        []string // X-Forwarded-For lines
		trusted    []netip.Prefix
		want       string
	}{
		{"no trusted proxies: headers ignored", "10.0.0.1:5", []string{"192.0.2.1"}, nil, "10.0.0.1"},
		{"untrusted peer: headers ignored", "192.0.2.9:5", []string{"192.0.2.1"}, trusted, "192.0.2.9"},
		{"one proxy", "10.0.0.1:5", []string{"192.0.2.1"}, trusted, "192.0.2.1"},
		{"forged entries left of the client", "10.0.0.1:5", []string{"203.0.113.7, 198.51.100.3, 192.0.2.1"}, trusted, "192.0.2.1"},
		{"two proxies", "10.0.0.1:5", []string{"192.0.2.1, 10.9.9.9"}, trusted, "192.0.2.1"},
		{"a line per proxy", "10.0.0.1:5", []string{"203.0.113.7, 192.0.2.1", "10.9.9.9"}, trusted, "192.0.2.1"},
		{"ports and brackets", "10.0.0.1:5", []string{"[2001:db8::1]:4711"}, trusted, "2001:db8::1"},
		{"ipv4 with port", "10.0.0.1:5", []string{"192.0.2.1:4711"}, trusted, "192.0.2.1"},
		{"mapped ipv4", "[::ffff:10.0.0.1]:5", []string{"::ffff:192.0.2.1"}, trusted, "192.0.2.1"},
		{"ipv6 proxy", "[2001:db8:f::1]:5", []string{"192.0.2.1"}, trusted, "192.0.2.1"},
		{"no header: the proxy", "10.0.0.1:5", nil, trusted, "10.0.0.1"},
		{"only proxies: the farthest", "10.0.0.1:5", []string{"10.2.2.2, 10.3.3.3"}, trusted, "10.2.2.2"},
		{"unknown hop: the proxy that wrote it", "10.0.0.1:5", []string{"192.0.2.1, unknown, 10.3.3.3"}, trusted, "10.3.3.3"},
		{"garbage: the peer", "10.0.0.1:5", []string{"<script>"}, trusted, "10.0.0.1"},
		{"empty entry: the peer", "10.0.0.1:5", []string{"192.0.2.1,"}, trusted, "10.0.0.1"},
	} {
		r := httptest.NewRequest(http.MethodPost, "/", nil)
		r.RemoteAddr = tt.peer
		for _, l := range tt.xff {
			r.Header.Add("X-Forwarded-For", l)
		}
		if got := clientAddr(r, tt.trusted); got.String() != tt.want {
			t.Errorf("%s: clientAddr(peer %s, X-Forwarded-For %q) = %v; want %s", tt.name, tt.peer, tt.xff, got, tt.want)
		}
	}
}
