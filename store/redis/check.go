package redis

import (
	"context"
	"fmt"
	"strings"

	redigo "github.com/gomodule/redigo/redis"

	"github.com/tabforge/tabforge/store"
)

// Check implements store.Checker: the server must answer, persist its
// data (AOF or RDB snapshots) and never evict keys without a TTL, since
// runs and the registry have none.
func (s *Store) Check(ctx context.Context) []store.Problem {
	if err := s.Ping(ctx); err != nil {
		return []store.Problem{{What: fmt.Sprintf("redis %s is not reachable: %v", s.name, err),
			Fix: "start redis-server (e.g. systemctl start redis-server), check host, port, password and TLS in the store URL, or use --store sqlite://PATH"}}
	}
	cfg := map[string]string{}
	for _, k := range []string{"appendonly", "save", "maxmemory-policy", "maxmemory"} {
		v, err := redigo.StringMap(s.Do(ctx, "CONFIG", "GET", k))
		if err != nil {
			return []store.Problem{{What: fmt.Sprintf("redis %s: CONFIG GET %s: %v", s.name, k, err),
				Fix: "allow CONFIG GET for tabforge's user (ACL), or check these settings by hand: appendonly yes, maxmemory-policy noeviction"}}
		}
		cfg[k] = v[k]
	}
	var out []store.Problem
	if cfg["appendonly"] != "yes" && strings.TrimSpace(cfg["save"]) == "" {
		out = append(out, store.Problem{What: "redis persistence is off (appendonly no, no save points): a restart loses every run and the registry",
			Fix: "redis-cli CONFIG SET appendonly yes && redis-cli CONFIG REWRITE (or set appendonly yes in redis.conf)"})
	} else if cfg["appendonly"] != "yes" {
		out = append(out, store.Problem{What: fmt.Sprintf("redis persists by RDB snapshots only (save %q): a crash loses writes since the last snapshot", cfg["save"]),
			Fix: "redis-cli CONFIG SET appendonly yes && redis-cli CONFIG REWRITE"})
	}
	switch p := cfg["maxmemory-policy"]; {
	case p == "noeviction", strings.HasPrefix(p, "volatile-"):
	default:
		out = append(out, store.Problem{What: fmt.Sprintf("redis maxmemory-policy is %s: under memory pressure it evicts runs and registry keys, which have no TTL", p),
			Fix: "redis-cli CONFIG SET maxmemory-policy noeviction (or volatile-lru, which evicts only expiring cache keys) && redis-cli CONFIG REWRITE"})
	}
	return out
}
