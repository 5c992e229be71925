package redact

import "testing"

func TestUserinfo(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"redis://:secret@h:6379/0", "redis://:xxxxx@h:6379/0"},
		{"redis://user:secret@h", "redis://user:xxxxx@h"},
		{"redis://secret@h", "redis://xxxxx@h"},
		{"redis://:se@cret@h:63x9", "redis://:xxxxx@h:63x9"},
		{"redis://h:6379/0?password=p@x", "redis://h:6379/0?password=p@x"},
		{"redis://h:6379/0", "redis://h:6379/0"},
		{"nats://tok@a:4222", "nats://xxxxx@a:4222"},
	} {
		if got := Userinfo(tc.in); got != tc.want {
			t.Errorf("Userinfo(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
