// Package redact owns hiding the password in a connection URL by its
// text, for the URLs that url.Parse refuses or would show in clear.
package redact

import "strings"

// Userinfo returns raw with the userinfo of its URL hidden: the part
// after ':' ("redis://:secret@h" becomes "redis://:xxxxx@h"), or all of
// it in the user-less form ("redis://secret@h", a NATS token) that
// url.URL.Redacted shows. It reads the text, not a parsed URL, so a URL
// that does not parse (a bad port, a '/' in the password) is hidden too;
// the userinfo ends at the last '@' before any query or fragment.
func Userinfo(raw string) string {
	start := 0
	if i := strings.Index(raw, "://"); i >= 0 {
		start = i + len("://")
	}
	end := len(raw)
	if i := strings.IndexAny(raw[start:], "?#"); i >= 0 {
		end = start + i
	}
	at := strings.LastIndex(raw[start:end], "@")
	if at < 0 {
		return raw
	}
	at += start
	if user, _, ok := strings.Cut(raw[start:at], ":"); ok {
		return raw[:start] + user + ":xxxxx" + raw[at:]
	}
	return raw[:start] + "xxxxx" + raw[at:]
}
