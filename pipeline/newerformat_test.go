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
// one version field of a real saved gbdt model at a time (the envelope's,
// the predictor layout's, its design's, the gbdt encoding's), and checks
// that each is refused as written by a newer tabforge: no field a newer
// build may add is read by this build's rules, and no such file is called
// corrupt (the design and the layout were: their headers were decoded
// before their versions were looked at).
func TestNewerModelFile(t *testing.T) {
	cfg := config.Default()
	cfg.Data, cfg.Target, cfg.Models, cfg.CVFolds, cfg.Out = filepath.Join("..", "testdata", "credit_data.csv"), "Status", []string{"gbdt"}, 0, t.TempDir()
	cfg.ModelParams = map[string]map[string]any{"gbdt": {"n_estimators": 5}}
	res, _ := trainSaved(t, cfg)
	raw, err := os.ReadFile(res.ModelPath)
	if err != nil {
		t.Fatal(err)
	}
	_, payload, err := model.DecodeEnvelope(raw)
	if err != nil {
		t.Fatal(err)
	}
	// inPayload rewrites the first match of re in the payload (header and
	// model encoding) to repl, which must keep its length so that the
	// header's length prefix and the members' sizes stay true.
	inPayload := func(re, repl string) []byte {
		p := bytes.Clone(payload)
		loc := regexp.MustCompile(re).FindIndex(p)
		if loc == nil || loc[1]-loc[0] != len(repl) {
			t.Fatalf("no %s of length %d in the payload", re, len(repl))
		}
		copy(p[loc[0]:], repl)
		return model.EncodeEnvelope(PredictorKind, p)
	}
	envelope := bytes.Clone(raw[:len(raw)-sha256.Size])
	binary.LittleEndian.PutUint32(envelope[8:], model.EnvelopeVersion+1)
	sum := sha256.Sum256(envelope)
	for name, data := range map[string][]byte{
		"envelope":         append(envelope, sum[:]...),
		"predictor layout": inPayload(`(?s)^.{8}\{"version":\d`, string(payload[:8])+`{"version":3`),
		"design":           inPayload(`"design":\{"version":\d`, `"design":{"version":3`),
		"gbdt model":       inPayload(`\{"format":"tabforge-gbdt","version":\d`, `{"format":"tabforge-gbdt","version":2`),
	} {
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
