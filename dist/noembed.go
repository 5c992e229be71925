//go:build !natsembed

package dist

// Embed reports ErrNoEmbedded: the NATS server adds about 16 MB to the
// binary, so only builds with the natsembed tag embed it. Spawn starts
// Debian's nats-server instead.
func Embed(port int) (*Server, error) { return nil, ErrNoEmbedded }
