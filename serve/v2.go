package serve

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"mime"
	"net/http"
	"strconv"
	"strings"

	"github.com/tabforge/tabforge/explain"
	"github.com/tabforge/tabforge/frame"
	"github.com/tabforge/tabforge/internal/par"
	"github.com/tabforge/tabforge/model"
	"github.com/tabforge/tabforge/pipeline"
)

// v2Response is an Open Inference Protocol V2 inference response.
type v2Response struct {
	ModelName    string     `json:"model_name"`
	ModelVersion string     `json:"model_version"`
	ID           string     `json:"id,omitempty"`
	Outputs      []v2Tensor `json:"outputs"`
}

// handleInfer serves POST /v2/models/{name}/infer and, for a version the
// name's deployment has loaded, /v2/models/{name}/versions/{version}/infer.
func (s *Server) handleInfer(w http.ResponseWriter, r *http.Request) {
	c, body, release, ok := s.begin(w, r, r.PathValue("name"))
	if !ok {
		return
	}
	defer release()
	ctx, cancel := context.WithTimeout(r.Context(), s.o.RequestTimeout)
	defer cancel()
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); isCSV(mt) {
		// It was read as JSON: "malformed JSON body: invalid character 's'".
		s.fail(w, c, http.StatusUnsupportedMediaType, "Content-Type "+mt+" is not read by the V2 protocol, which takes JSON tensors: send application/json, or the CSV to /invocations", nil)
		return
	}
	req, t, err := decodeV2(body, c.d.plan.Key)
	if err != nil {
		s.fail(w, c, http.StatusBadRequest, err.Error(), nil)
		return
	}
	c.t = t
	if v := r.PathValue("version"); v != "" {
		if c.v, err = c.d.version(c.name, v); err != nil {
			s.fail(w, c, http.StatusNotFound, err.Error(), nil)
			return
		}
		c.variant = "pinned"
	} else {
		c.v, c.variant = s.choose(c.d, routingKey(r.Header.Get("X-Routing-Key"), t), s.seq.Add(1))
	}
	pred, rep, status, err := s.predict(ctx, c)
	if err != nil {
		s.fail(w, c, status, err.Error(), rep)
		return
	}
	outputs, err := pickOutputs(v2Outputs(c.v.p, pred), req.Outputs)
	if err != nil {
		s.fail(w, c, http.StatusBadRequest, err.Error(), nil)
		return
	}
	resp := v2Response{ModelName: c.name, ModelVersion: c.v.m.Version, ID: req.ID, Outputs: outputs}
	s.logServed(c, predictions(c.v.p, pred))
	w.Header().Set("X-Model-Version", c.v.m.Version)
	writeJSON(w, http.StatusOK, resp)
	s.after(c, pred)
}

// pickOutputs returns the tensors of all that a request's "outputs"
// names, in its order (all of them when it names none, as the protocol
// says), or an error naming every unknown output and the known ones.
func pickOutputs(all []v2Tensor, want []v2RequestedOutput) ([]v2Tensor, error) {
	if len(want) == 0 {
		return all, nil
	}
	byName := make(map[string]v2Tensor, len(all))
	names := make([]string, len(all))
	for i, t := range all {
		byName[t.Name], names[i] = t, t.Name
	}
	var out []v2Tensor
	var unknown []string
	for _, o := range want {
		t, ok := byName[o.Name]
		if !ok {
			unknown = append(unknown, strconv.Quote(o.Name))
			continue
		}
		out = append(out, t)
	}
	if len(unknown) > 0 {
		return nil, fmt.Errorf("unknown output(s) %s: the model's outputs are %s", strings.Join(unknown, ", "), strings.Join(names, ", "))
	}
	return out, nil
}

// v2Outputs are the prediction as tensors: "prediction" (FP64 for
// regression, BYTES labels for classifiers) and one FP64 tensor
// prob_<class> per class.
func v2Outputs(p *pipeline.Predictor, pred *pipeline.Prediction) []v2Tensor {
	if p.Target.Task == model.Regression {
		return []v2Tensor{{Name: "prediction", Shape: []int{len(pred.Values)}, Datatype: "FP64", Data: anySlice(pred.Values)}}
	}
	n, k := len(pred.Labels), len(p.Target.Classes)
	out := []v2Tensor{{Name: "prediction", Shape: []int{n}, Datatype: "BYTES", Data: anySlice(pred.Labels)}}
	for c, name := range p.Target.Classes {
		col := make([]any, n)
		for i := range n {
			col[i] = pred.Probs[i*k+c]
		}
		out = append(out, v2Tensor{Name: pipeline.ProbColumn(name), Shape: []int{n}, Datatype: "FP64", Data: col})
	}
	return out
}

func anySlice[T any](v []T) []any {
	out := make([]any, len(v))
	for i, x := range v {
		out[i] = x
	}
	return out
}

// v2Metadata is the V2 model metadata response.
type v2Metadata struct {
	Name     string       `json:"name"`
	Versions []string     `json:"versions"`
	Platform string       `json:"platform"`
	Inputs   []v2TensorMD `json:"inputs"`
	Outputs  []v2TensorMD `json:"outputs"`
}

type v2TensorMD struct {
	Name     string `json:"name"`
	Datatype string `json:"datatype"`
	Shape    []int  `json:"shape"`
}

func (s *Server) handleModelMetadata(w http.ResponseWriter, r *http.Request) {
	d, name, err := s.deployment(r.PathValue("name"))
	if err != nil {
		s.fail(w, nil, deploymentStatus(err), err.Error(), nil)
		return
	}
	if r.PathValue("name") == "" {
		s.fail(w, nil, http.StatusNotFound, "no model named", nil)
		return
	}
	v := d.production()
	if want := r.PathValue("version"); want != "" {
		if v, err = d.version(name, want); err != nil {
			s.fail(w, nil, http.StatusNotFound, err.Error(), nil)
			return
		}
	}
	md := v2Metadata{Name: name, Versions: d.plan.Versions(), Platform: "tabforge_" + v.p.Family()}
	for _, f := range v.p.Schema {
		dt := "BYTES"
		if f.Kind == frame.Numeric {
			dt = "FP64"
		}
		md.Inputs = append(md.Inputs, v2TensorMD{Name: f.Name, Datatype: dt, Shape: []int{-1}})
	}
	if v.p.Target.Task == model.Regression {
		md.Outputs = []v2TensorMD{{Name: "prediction", Datatype: "FP64", Shape: []int{-1}}}
	} else {
		md.Outputs = []v2TensorMD{{Name: "prediction", Datatype: "BYTES", Shape: []int{-1}}}
		for _, c := range v.p.Target.Classes {
			md.Outputs = append(md.Outputs, v2TensorMD{Name: pipeline.ProbColumn(c), Datatype: "FP64", Shape: []int{-1}})
		}
	}
	w.Header().Set("X-Model-Version", v.m.Version)
	writeJSON(w, http.StatusOK, md)
}

// explainResponse holds SHAP values per row: values[row][output][feature].
type explainResponse struct {
	ModelVersion string                `json:"model_version"`
	Method       explain.Method        `json:"method"`
	Output       explain.Output        `json:"output"`
	Exact        bool                  `json:"exact"`
	FeatureNames []string              `json:"feature_names"`
	OutputNames  []string              `json:"output_names,omitempty"`
	BaseValue    []float64             `json:"base_value"`
	Values       [][][]float64         `json:"values"`
	Notes        []string              `json:"notes,omitempty"`
	Input        *pipeline.InputReport `json:"input,omitempty"`
}

// handleExplain serves POST /v1/models/{name}/explain: SHAP values of
// the production version (as `tabforge explain`) for every row of an
// MLflow-format body.
func (s *Server) handleExplain(w http.ResponseWriter, r *http.Request) {
	c, body, release, ok := s.begin(w, r, r.PathValue("name"))
	if !ok {
		return
	}
	defer release()
	ctx, cancel := context.WithTimeout(r.Context(), s.o.RequestTimeout)
	defer cancel()
	t, err := decodeMLflow(body, r.Header.Get("Content-Type"), "", nil)
	if err != nil {
		s.fail(w, c, http.StatusBadRequest, err.Error(), nil)
		return
	}
	c.t, c.v, c.variant = t, c.d.production(), "explain"
	s.noteIgnoredParams(c)
	x, rep, status, err := s.frameFor(c, c.v.p, t)
	if err == nil && x.NumRows() > s.o.MaxExplainRows {
		status, err = http.StatusRequestEntityTooLarge, errRows(x.NumRows(), s.o.MaxExplainRows, "explain request", "--max-explain-rows")
	}
	if err != nil {
		s.fail(w, c, status, err.Error(), rep)
		return
	}
	v, err := s.explain(ctx, c, x)
	var nonFinite *pipeline.NonFiniteError
	var bug *par.Panic
	if errors.As(err, &bug) {
		s.o.Logger.Error("serve: explanation panicked", "request", c.id, "model", c.name, "version", c.v.m.Version,
			"panic", bug.Value, "stack", string(bug.Stack))
		s.fail(w, c, http.StatusInternalServerError, fmt.Sprintf("explain failed (request %s)", c.id), nil)
		return
	}
	if errors.As(err, &nonFinite) {
		s.fail(w, c, http.StatusBadRequest, err.Error(), nil)
		return
	}
	if ctx.Err() != nil {
		s.fail(w, c, http.StatusServiceUnavailable, fmt.Sprintf("request deadline of %s exceeded", s.o.RequestTimeout), nil)
		return
	}
	if err != nil {
		// The error is the server's (a model's, a feature chain's): the
		// client gets the request id to quote, the log the error.
		s.o.Logger.Error("serve: explanation failed", "request", c.id, "model", c.name, "version", c.v.m.Version, "err", err)
		s.fail(w, c, http.StatusInternalServerError, fmt.Sprintf("explain failed (request %s)", c.id), nil)
		return
	}
	resp := explainResponse{ModelVersion: c.v.m.Version, Method: v.Method, Output: v.Output, Exact: v.Exact,
		FeatureNames: v.FeatureNames, OutputNames: v.OutputNames, BaseValue: v.BaseValue, Notes: v.Notes}
	for row := range v.Rows {
		per := make([][]float64, v.Outputs)
		for k := range v.Outputs {
			per[k] = v.Row(row, k)
		}
		resp.Values = append(resp.Values, per)
	}
	w.Header().Set("X-Model-Version", c.v.m.Version)
	writeJSON(w, http.StatusOK, resp)
	s.metrics.observe(c, http.StatusOK)
}

// explain is pipeline.Explain of c's variant on x, with a panic (on this
// goroutine or, re-raised here, on one of the explainer's workers) as a
// *par.Panic error: net/http's own recover would drop the connection
// without an answer.
func (s *Server) explain(ctx context.Context, c *call, x *frame.Frame) (_ *explain.Values, err error) {
	defer par.Recover(&err)
	return pipeline.Explain(ctx, c.v.p, x, pipeline.ExplainOptions{Options: explain.Options{Seed: s.o.ExplainSeed, Workers: 1}})
}

// v2Type is what a V2 datatype's data holds in JSON: kind 'b' booleans,
// 'i' and 'u' whole numbers of bits bits (signed, unsigned), 'f' numbers,
// 's' strings (BYTES).
type v2Type struct {
	kind byte
	bits int
}

var v2Types = map[string]v2Type{
	"BOOL": {'b', 1}, "INT8": {'i', 8}, "INT16": {'i', 16}, "INT32": {'i', 32}, "INT64": {'i', 64},
	"UINT8": {'u', 8}, "UINT16": {'u', 16}, "UINT32": {'u', 32}, "UINT64": {'u', 64},
	"FP16": {'f', 16}, "FP32": {'f', 32}, "FP64": {'f', 64}, "BYTES": {'s', 0},
}

// checkTensor checks that in, its data flattened, is one column: shape
// [n] or [n, 1] with n its number of values, and every value of its
// datatype or null (a missing value). A tensor whose shape or datatype
// does not describe its data is most likely a client bug (a [n, 2]
// tensor sent for one column, a column's values shifted), so it is
// refused rather than read as text cells.
func checkTensor(in *v2Tensor) error {
	n := len(in.Data)
	if len(in.Shape) == 0 || len(in.Shape) > 2 || in.Shape[0] != n || (len(in.Shape) == 2 && in.Shape[1] != 1) {
		return fmt.Errorf("shape %v for %d values: want [%d] or [%d, 1], one value per row", in.Shape, n, n, n)
	}
	typ, ok := v2Types[in.Datatype]
	if !ok {
		return fmt.Errorf("datatype %q: want one of BOOL, INT8-64, UINT8-64, FP16, FP32, FP64 or BYTES", in.Datatype)
	}
	for i, v := range in.Data {
		if v != nil && !typ.holds(v) {
			return fmt.Errorf("row %d: %s data cannot hold %s", i+1, in.Datatype, describeJSON(v))
		}
	}
	return nil
}

// holds reports whether the JSON value v (decoded with UseNumber) is a
// value of t.
func (t v2Type) holds(v any) bool {
	switch v := v.(type) {
	case bool:
		return t.kind == 'b'
	case string:
		return t.kind == 's'
	case json.Number:
		f, err := strconv.ParseFloat(v.String(), 64)
		switch t.kind {
		case 'f':
			return true // the reader judges the number, as in any other protocol
		// Integer text is checked exactly: through float64 the largest
		// INT64 (2^63-1) would round to 2^63 and be refused.
		case 'i':
			if _, ierr := strconv.ParseInt(v.String(), 10, t.bits); ierr == nil {
				return true
			}
			lim := math.Ldexp(1, t.bits-1)
			return err == nil && f == math.Trunc(f) && f >= -lim && f < lim
		case 'u':
			if _, uerr := strconv.ParseUint(v.String(), 10, t.bits); uerr == nil {
				return true
			}
			return err == nil && f == math.Trunc(f) && f >= 0 && f < math.Ldexp(1, t.bits)
		}
	}
	return false
}

// describeJSON names a decoded JSON value for an error message.
func describeJSON(v any) string {
	switch v := v.(type) {
	case string:
		return fmt.Sprintf("the string %q", v)
	case bool:
		return fmt.Sprintf("the boolean %t", v)
	case json.Number:
		return "the number " + v.String()
	case map[string]any:
		return "an object"
	}
	return "a nested list"
}
