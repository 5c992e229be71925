package pipeline

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/tabforge/tabforge/config"
	"github.com/tabforge/tabforge/internal/formatversion"
	"github.com/tabforge/tabforge/model"
)

// TestNewerModelFile fakes a model file a later tabforge wrote, by raising
// one version field of a real saved model at a time (the envelope's, the
// predictor layout's, its design's, each family's encoding's), and checks
// that each is refused as written by a newer tabforge: no field a newer
// build may add is read by this build's rules, and no such file is called
// corrupt (the design and the layout were: their headers were decoded
// before their versions were looked at; the families said "not a forest
// model" or "format \"tabforge.linear/v2\", want ...").
func TestNewerModelFile(t *testing.T) {
	raw, payload := savedModel(t, "gbdt")
	envelope := bytes.Clone(raw[:len(raw)-sha256.Size])
	binary.LittleEndian.PutUint32(envelope[8:], model.EnvelopeVersion+1)
	sum := sha256.Sum256(envelope)
	cases := map[string][]byte{
		"envelope":         append(envelope, sum[:]...),
		"predictor layout": raise(t, payload, `(?s)^.{8}\{"version":\d`, string(payload[:8])+`{"version":3`),
		"design":           raise(t, payload, `"design":\{"version":\d`, `"design":{"version":3`),
		"gbdt model":       raise(t, payload, `\{"format":"tabforge-gbdt","version":\d`, `{"format":"tabforge-gbdt","version":2`),
	}
	_, payload = savedModel(t, "logistic")
	cases["linear model"] = raise(t, payload, `"format":"tabforge.linear/v\d"`, `"format":"tabforge.linear/v2"`)
	_, payload = savedModel(t, "forest")
	cases["forest model"] = raise(t, payload, `TFforst\d`, `TFforst2`)
	_, payload = savedModel(t, "tree")
	cases["tree model"] = raise(t, payload, "TFcart\\d\x00", "TFcart2\x00")
	cases["tree encoding"] = raise(t, payload, "TFtree\\d\x00", "TFtree3\x00")
	for name, data := range cases {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "newer.tfm")
			if err := os.WriteFile(path, data, 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := LoadPredictor(path, Families())
			if !errors.Is(err, formatversion.ErrNewer) || errors.Is(err, model.ErrCorrupt) {
				t.Fatalf("LoadPredictor(%s raised) = %v; want an error wrapping formatversion.ErrNewer, not ErrCorrupt", name, err)
			}
			if want := name + " format version"; !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "upgrade tabforge") {
				t.Errorf("LoadPredictor(%s raised) = %q; want it to name %q and say to upgrade", name, err, want)
			}
		})
	}
}

// savedModel trains one family on credit_data without CV and returns its
// saved file and the file's envelope payload.
func savedModel(t *testing.T, family string) (raw, payload []byte) {
	t.Helper()
	cfg := config.Default()
	cfg.Data, cfg.Target, cfg.Models, cfg.CVFolds, cfg.Out = filepath.Join("..", "testdata", "credit_data.csv"), "Status", []string{family}, 0, t.TempDir()
	cfg.ModelParams = map[string]map[string]any{"gbdt": {"n_estimators": 5}, "forest": {"n_estimators": 5}}
	res, _ := trainSaved(t, cfg)
	raw, err := os.ReadFile(res.ModelPath)
	if err != nil {
		t.Fatal(err)
	}
	if _, payload, err = model.DecodeEnvelope(raw); err != nil {
		t.Fatal(err)
	}
	return raw, payload
}

// raise rewrites the first match of re in payload (header and model
// encodings) to repl and wraps it in an envelope again. repl must keep the
// match's length, so that the header's length prefix and the members'
// sizes stay true.
func raise(t *testing.T, payload []byte, re, repl string) []byte {
	t.Helper()
	p := bytes.Clone(payload)
	loc := regexp.MustCompile(re).FindIndex(p)
	if loc == nil || loc[1]-loc[0] != len(repl) {
		t.Fatalf("no %q of length %d in the payload", re, len(repl))
	}
	copy(p[loc[0]:], repl)
	return model.EncodeEnvelope(PredictorKind, p)
}
