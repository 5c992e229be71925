package serve

import (
	"bytes"
	"encoding/json"
	"maps"
	"slices"
)

// noteIgnoredParams logs that the MLflow params of c's request are
// ignored, as MLflow's scoring server does for a model whose predict
// takes none (tabforge models take none): once per loaded version, not
// per request, so a client that always sends them does not flood the log.
func (s *Server) noteIgnoredParams(c *call) {
	if len(c.t.params) == 0 || c.v.paramsNoted.Swap(true) {
		return
	}
	s.o.Logger.Warn("serve: the request's params are ignored: the model takes none (logged once per version)",
		"request", c.id, "model", c.name, "version", c.v.m.Version, "params", c.t.params)
}

// paramNames returns the names of an MLflow body's "params" object, or
// the JSON text of a params value that is not one; nil for none (absent,
// null or an empty object, which MLflow does not warn of either).
func paramNames(raw json.RawMessage) []string {
	v := bytes.TrimSpace(raw)
	if len(v) == 0 || string(v) == "null" {
		return nil
	}
	var m map[string]json.RawMessage
	if json.Unmarshal(v, &m) != nil {
		const most = 80
		if len(v) > most {
			v = append(v[:most:most], "..."...)
		}
		return []string{string(v)}
	}
	return slices.Sorted(maps.Keys(m))
}
