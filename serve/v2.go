package serve

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/tabforge/tabforge/explain"
	"github.com/tabforge/tabforge/frame"
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
	req, t, err := decodeV2(body, c.d.plan.Key)
	if err != nil {
		s.fail(w, c, http.StatusBadRequest, err.Error(), nil)
		return
	}
	c.t = t
	if v := r.PathValue("version"); v != "" {
		if c.v = c.d.variants[v]; c.v == nil {
			s.fail(w, c, http.StatusNotFound, "version "+v+" of "+c.name+" is not loaded (served: production, split and shadow versions)", nil)
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
	resp := v2Response{ModelName: c.name, ModelVersion: c.v.m.Version, ID: req.ID, Outputs: v2Outputs(c.v.p, pred)}
	w.Header().Set("X-Model-Version", c.v.m.Version)
	writeJSON(w, http.StatusOK, resp)
	s.after(c, pred, predictions(c.v.p, pred))
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
		out = append(out, v2Tensor{Name: "prob_" + name, Shape: []int{n}, Datatype: "FP64", Data: col})
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
	if err != nil || r.PathValue("name") == "" {
		s.fail(w, nil, http.StatusNotFound, errString(err, "no model named"), nil)
		return
	}
	v := d.production()
	if want := r.PathValue("version"); want != "" {
		if v = d.variants[want]; v == nil {
			s.fail(w, nil, http.StatusNotFound, "version "+want+" of "+name+" is not loaded", nil)
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
			md.Outputs = append(md.Outputs, v2TensorMD{Name: "prob_" + c, Datatype: "FP64", Shape: []int{-1}})
		}
	}
	w.Header().Set("X-Model-Version", v.m.Version)
	writeJSON(w, http.StatusOK, md)
}

func errString(err error, fallback string) string {
	if err != nil {
		return err.Error()
	}
	return fallback
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
	x, rep, status, err := s.frameFor(c.v.p, t)
	if err == nil && x.NumRows() > s.o.MaxExplainRows {
		status, err = http.StatusRequestEntityTooLarge, errRows(x.NumRows(), s.o.MaxExplainRows)
	}
	if err != nil {
		s.fail(w, c, status, err.Error(), rep)
		return
	}
	v, err := pipeline.Explain(ctx, c.v.p, x, pipeline.ExplainOptions{Options: explain.Options{Seed: s.o.Seed, Workers: 1}})
	var nonFinite *pipeline.NonFiniteError
	if errors.As(err, &nonFinite) {
		s.fail(w, c, http.StatusBadRequest, err.Error(), nil)
		return
	}
	if ctx.Err() != nil {
		s.fail(w, c, http.StatusServiceUnavailable, fmt.Sprintf("request deadline of %s exceeded", s.o.RequestTimeout), nil)
		return
	}
	if err != nil {
		s.fail(w, c, http.StatusInternalServerError, "explain failed: "+err.Error(), nil)
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
