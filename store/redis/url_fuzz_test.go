package redis

import (
	"strings"
	"testing"
)

// FuzzParseURL feeds store URLs with a password to ParseURL: it must
// never panic, its error must never show the password (store URLs end up
// in logs, run records and CI output), and a URL it accepts must give a
// usable address and the password back.
func FuzzParseURL(f *testing.F) {
	f.Add("redis", "s3cretpw", "localhost:6379/0")
	f.Add("rediss", "s3cretpw", "h:12a/0")
	f.Add("redis", "s3cretpw", "[::1]:6379/2?prefix=tf&cache_ttl=1h")
	f.Add("redis", "s3cretpw", "h/x")
	f.Add("redis", "s3cretpw", "h:1/0?dial_timeout=-1s")
	f.Add("redis", "s3cretpw", "h:1/0?bogus=1")
	f.Add("redis", "s3cretpw", "h%zz:1/0")
	f.Fuzz(func(t *testing.T, scheme, pw, rest string) {
		if len(pw) < 6 || strings.Trim(pw, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789") != "" ||
			strings.Contains(scheme+rest, pw) || !strings.ContainsAny(pw, "ghijklmopqswyzGHIJKLMOPQRSTVWXYZ") {
			// Only a password the URL cannot mistake for anything else, with
			// a letter no %q escape (\x0a, \u00e9) is made of.
			return
		}
		if host, _, _ := strings.Cut(rest, "/"); strings.Contains(host, "@") {
			// The user info ends at the last '@' before the path, as in
			// net/url: an '@' there belongs to the password ("p@ss").
			return
		}
		raw := scheme + "://:" + pw + "@" + rest
		c, _, err := ParseURL(raw)
		if err != nil {
			if strings.Contains(err.Error(), pw) {
				t.Fatalf("ParseURL(%q) error shows the password: %v", raw, err)
			}
			return
		}
		if c.Password != pw {
			t.Fatalf("ParseURL(%q) password = %q; want %q", raw, c.Password, pw)
		}
		if c.Addr == "" || strings.Contains(c.String(), pw) {
			t.Fatalf("ParseURL(%q) = %+v: no address, or String shows the password", raw, c)
		}
	})
}
