package ui

import (
	"fmt"
	"net"
	"net/http"
	"slices"
	"strings"
)

// loopbackOnly answers only requests whose Host names this machine's
// loopback (localhost, a *.localhost name, 127.0.0.0/8, ::1) or one of
// allow. A dashboard on loopback is otherwise open to DNS rebinding: a
// page on another site whose name a moment later resolves to 127.0.0.1
// is, to the browser, the same origin as the dashboard, and could read
// every run, config, report and model file. Checking the Host is what
// the rebinding cannot forge.
func loopbackOnly(h http.Handler, allow []string) http.Handler {
	allow = slices.Clone(allow)
	for i, a := range allow {
		allow[i] = hostname(a)
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !loopbackHost(r.Host) && !slices.Contains(allow, hostname(r.Host)) {
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			w.Header().Set("X-Content-Type-Options", "nosniff")
			w.WriteHeader(http.StatusMisdirectedRequest)
			fmt.Fprintf(w, "tabforge ui listens on loopback and answers only to loopback host names (localhost, 127.0.0.1), "+
				"not %q; behind a proxy sending that host, start it with --allow-host %s\n", r.Host, hostname(r.Host))
			return
		}
		h.ServeHTTP(w, r)
	})
}

// hostname is host without its port and brackets, lower-cased.
func hostname(host string) string {
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	return strings.ToLower(strings.TrimSuffix(strings.TrimPrefix(host, "["), "]"))
}

func loopbackHost(host string) bool {
	h := hostname(host)
	if h == "localhost" || strings.HasSuffix(h, ".localhost") {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}

// isLoopback reports whether ln listens on a loopback address only.
func isLoopback(ln net.Listener) bool {
	tcp, ok := ln.Addr().(*net.TCPAddr)
	return ok && tcp.IP.IsLoopback()
}
