package pipeline

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
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
		"predictor layout": raise(t, payload, `(?s)^.{8}\{"version":\d`, string(payload[:8])+`{"version":`+strconv.Itoa(predictorVersion+1)),
		"design":           raise(t, payload, `"design":\{"version":\d`, `"design":{"version":4`),
		"gbdt model":       raise(t, payload, `\{"format":"tabforge-gbdt","version":\d`, `{"format":"tabforge-gbdt","version":2`),
	}
	_, payload = savedModel(t, "logistic")
	cases["linear model"] = raise(t, payload, `"format":"tabforge.linear/v\d"`, `"format":"tabforge.linear/v2"`)
	_, payload = savedModel(t, "forest")
	cases["forest model"] = raise(t, payload, `TFforst\d`, `TFforst2`)
	_, payload = savedModel(t, "tree")
	cases["tree model"] = raise(t, payload, "TFcart\\d\x00", "TFcart2\x00")
	cases["tree encoding"] = raise(t, payload, "TFtree\\d\x00", "TFtree4\x00")
	_, payload = savedModel(t, "gbdt", "logistic")
	cases["combiner"] = raiseCombiner(t, payload)
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

// savedModel trains families on credit_data and returns the saved file
// and its envelope payload. One family is fitted without CV; more are
// cross-validated, for the average ensemble of them to be saved.
func savedModel(t *testing.T, families ...string) (raw, payload []byte) {
	t.Helper()
	cfg := config.Default()
	cfg.Data, cfg.Target, cfg.Models, cfg.CVFolds, cfg.Out = filepath.Join("..", "testdata", "credit_data.csv"), "Status", families, 0, t.TempDir()
	if len(families) > 1 {
		cfg.CVFolds = 3
	}
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

// raiseCombiner raises the format version of an ensemble's combiner, a
// JSON encoding held base64 in the predictor header, and writes the header
// back with its new length.
func raiseCombiner(t *testing.T, payload []byte) []byte {
	t.Helper()
	n := binary.LittleEndian.Uint64(payload)
	var header map[string]json.RawMessage
	if err := json.Unmarshal(payload[8:8+n], &header); err != nil {
		t.Fatal(err)
	}
	var c []byte
	if err := json.Unmarshal(header["combiner"], &c); err != nil || !bytes.Contains(c, []byte(`"tabforge-combiner/1"`)) {
		t.Fatalf("the saved model has no combiner of format 1 (%v): %s", err, c)
	}
	c = bytes.Replace(c, []byte(`"tabforge-combiner/1"`), []byte(`"tabforge-combiner/2"`), 1)
	var err error
	if header["combiner"], err = json.Marshal(c); err != nil {
		t.Fatal(err)
	}
	h, err := json.Marshal(header)
	if err != nil {
		t.Fatal(err)
	}
	p := binary.LittleEndian.AppendUint64(nil, uint64(len(h)))
	p = append(append(p, h...), payload[8+n:]...)
	return model.EncodeEnvelope(PredictorKind, p)
}
