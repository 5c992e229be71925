package config

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/url"
	"reflect"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/tabforge/tabforge/internal/redact"
)

// hashVersion starts the hashed text; bump it when the canonical encoding
// changes, so old cache keys miss instead of colliding.
const hashVersion = "tabforge-config-v6\n" // v2: cv auto is time-ordered with a time column; v3: target_transform; v4: meta_learning; v5: ensemble_method; v6: target_transform auto tries a time trend

// YAML returns the effective configuration as YAML: every key, in the
// order of Keys, maps sorted by key. Loading it back as a file gives a
// Config equal to c.
func (c *Config) YAML() ([]byte, error) {
	n, err := c.node()
	if err != nil {
		return nil, err
	}
	return encodeNode(n)
}

// AnnotatedYAML is YAML with each key that a profile, file, environment
// variable or flag set followed by a comment naming it, e.g.
//
//	max_evals: 100 # profile:research
//
// for `tabforge config show`. The comments do not change what loads back.
func (c *Config) AnnotatedYAML(prov *Provenance) ([]byte, error) {
	n, err := c.node()
	if err != nil {
		return nil, err
	}
	if prov != nil {
		n.HeadComment = "profile: " + prov.Profile
		if prov.File != "" {
			n.HeadComment += ", file: " + prov.File
		}
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if o := prov.Origin(n.Content[i].Value); o.Kind != FromDefault {
			if n.Content[i+1].Kind == yaml.ScalarNode || n.Content[i+1].Style == yaml.FlowStyle {
				n.Content[i+1].LineComment = o.String()
			} else {
				n.Content[i].LineComment = o.String()
			}
		}
	}
	return encodeNode(n)
}

// node encodes c as a YAML mapping node, lists of scalars in flow style
// ([1, 2, 3]) so short lists stay on one line.
func (c *Config) node() (*yaml.Node, error) {
	var n yaml.Node
	if err := n.Encode(c); err != nil {
		return nil, fmt.Errorf("config: encoding YAML: %w", err)
	}
	for _, v := range n.Content {
		if v.Kind == yaml.SequenceNode {
			v.Style = yaml.FlowStyle
		}
	}
	return &n, nil
}

func encodeNode(n *yaml.Node) ([]byte, error) {
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(n); err != nil {
		return nil, fmt.Errorf("config: encoding YAML: %w", err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("config: encoding YAML: %w", err)
	}
	return buf.Bytes(), nil
}

// Hash returns the hex SHA-256 of a canonical JSON encoding (keys sorted,
// maps sorted) of every key that can change a result. It leaves out the
// operational keys (data, workers, store, store_fallback, out, log_format,
// log_level): the dataset enters cache keys by its content hash, and the
// rest say where and how a run happens, not what it computes. Equal
// configs hash equal; so do an empty and a nil list or map (but for
// missing_values, where nil is the default and [] reads only empty fields
// as missing), and an integer
// and a float of the same value in model_params. A Config that fails Validate (a non-finite
// number) is hashed from a fallback text encoding.
func (c *Config) Hash() string {
	v := reflect.ValueOf(c).Elem()
	m := make(map[string]any)
	def := reflect.ValueOf(Default()).Elem()
	for _, f := range fields() {
		fv := v.Field(f.index)
		switch {
		case !f.hashed, f.omitEmpty && normalize(fv).IsZero():
		case f.omitDefault:
			if v, ok := defaultedValue(fv, def.Field(f.index)); ok {
				m[f.key] = v
			}
		default:
			m[f.key] = normalize(fv).Interface()
		}
	}
	b, err := json.Marshal(m)
	if err != nil {
		b = fmt.Appendf(nil, "unencodable %v", m)
	}
	sum := sha256.Sum256(append([]byte(hashVersion), b...))
	return hex.EncodeToString(sum[:])
}

// defaultedValue returns the value Hash encodes for fv, a hash:"omitdefault"
// key whose default is dv, and false while fv is unset (nil) or equal to
// dv.
func defaultedValue(fv, dv reflect.Value) (any, bool) {
	if m, ok := fv.Interface().(MissingValues); ok {
		return m.hashValue(dv.Interface().(MissingValues))
	}
	if fv.IsNil() || reflect.DeepEqual(fv.Interface(), dv.Interface()) {
		return nil, false
	}
	return fv.Interface(), true
}

// Redacted returns a copy of c with the passwords of its service URLs
// (store, artifacts, queue) hidden ("redis://:secret@host" becomes
// "redis://:xxxxx@host"): what run records, reports and `config show`
// keep and print. Those keys are where a run went, not what it computed:
// they are not hashed, and a resumed run takes them from its new
// invocation.
func (c *Config) Redacted() *Config {
	r := c.Clone()
	r.Store, r.Artifacts, r.Queue = RedactURL(r.Store), RedactURL(r.Artifacts), RedactURL(r.Queue)
	return r
}

// RedactURL returns the URL s with its password hidden, for messages and
// logs: "redis://:secret@host" becomes "redis://:xxxxx@host", and
// redis-cli's user-less form "redis://secret@host" (a NATS token too)
// "redis://xxxxx@host". A comma-separated list (a NATS queue's servers)
// has each URL's password hidden: parsed whole, only the first one's was.
// A URL that does not parse (a typo in its port, a '/' in its password)
// has its userinfo, up to the last '@' before any query, hidden by its
// text: returned unchanged, it printed the password in config show.
func RedactURL(s string) string {
	parts := strings.Split(s, ",")
	for i, part := range parts {
		p := strings.TrimSpace(part)
		u, err := url.Parse(p)
		switch {
		case err != nil:
			parts[i] = strings.Replace(part, p, redact.Userinfo(p), 1)
		case u.User == nil:
		case hasPassword(u.User):
			parts[i] = strings.Replace(part, p, u.Redacted(), 1)
		default:
			u.User = url.User("xxxxx")
			parts[i] = strings.Replace(part, p, u.String(), 1)
		}
	}
	return strings.Join(parts, ",")
}

func hasPassword(u *url.Userinfo) bool {
	_, ok := u.Password()
	return ok
}
