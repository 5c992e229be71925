package serve

import (
	"compress/flate"
	"compress/gzip"
	"compress/zlib"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/tabforge/tabforge/frame"
	"github.com/tabforge/tabforge/internal/par"
	"github.com/tabforge/tabforge/model"
	"github.com/tabforge/tabforge/pipeline"
)

// call is one prediction request on its way through a handler.
type call struct {
	id      string
	start   time.Time
	name    string
	d       *deployment
	v       *variant
	variant string
	t       *table
}

// apiError is the JSON body of every error response: MLflow's
// error_code and message, an error field for V2 clients, the request id
// and, for input that does not fit the model, every problem found.
type apiError struct {
	Code      string                `json:"error_code"`
	Message   string                `json:"message"`
	Error     string                `json:"error"`
	RequestID string                `json:"request_id,omitempty"`
	Input     *pipeline.InputReport `json:"input,omitempty"`
}

// fail writes the JSON error body and, for a request c of a served
// model, counts it in the metrics.
func (s *Server) fail(w http.ResponseWriter, c *call, status int, msg string, report *pipeline.InputReport) {
	id := ""
	if c != nil {
		id = c.id
		s.metrics.observe(c, status)
	}
	writeError(w, id, status, msg, report)
}

// writeError writes the JSON error body without counting the request in
// the metrics: for requests naming no served model, whose name must not
// become a label value. id may be empty: the response's X-Request-Id then.
func writeError(w http.ResponseWriter, id string, status int, msg string, report *pipeline.InputReport) {
	if id == "" {
		id = w.Header().Get("X-Request-Id") // set for every request by withRequestID
	}
	// 415 is BAD_REQUEST: MLflow's scoring server answers an unsupported
	// Content-Type with a text/plain 415 and no code, its ErrorCode
	// vocabulary has none for 415, and its client reads a JSON error
	// without error_code as INTERNAL_ERROR (a server fault, 500), while
	// BAD_REQUEST is its code for a request the client must fix.
	code := map[int]string{400: "BAD_REQUEST", 401: "UNAUTHENTICATED", 404: "RESOURCE_DOES_NOT_EXIST", 405: "BAD_REQUEST", 409: "INVALID_STATE", 413: "REQUEST_LIMIT_EXCEEDED", 415: "BAD_REQUEST",
		429: "REQUEST_LIMIT_EXCEEDED", 503: "TEMPORARILY_UNAVAILABLE"}[status]
	if code == "" {
		code = "INTERNAL_ERROR"
	}
	// A caller that knows the wait (the admin-token guess limit) has set
	// it; the others are waits for a slot.
	if (status == http.StatusTooManyRequests || status == http.StatusServiceUnavailable) && w.Header().Get("Retry-After") == "" {
		w.Header().Set("Retry-After", "1")
	}
	writeJSON(w, status, apiError{Code: code, Message: msg, Error: msg, RequestID: id, Input: report})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil { // a bug: say so rather than send a 200 with no body
		status, b = http.StatusInternalServerError, []byte(`{"error_code":"INTERNAL_ERROR","message":"response could not be encoded","error":"response could not be encoded"}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(append(b, '\n')) //nolint:errcheck // the client may have gone; nothing to do
}

// begin resolves the model, reads the body and takes a concurrency
// slot: the body first, so that slow uploads do not hold the slots
// predictions need (reading has its own, larger bound). It writes the
// error response itself and returns ok false on failure; release must be
// called when ok.
func (s *Server) begin(w http.ResponseWriter, r *http.Request, name string) (c *call, body []byte, release func(), ok bool) {
	c = &call{id: requestID(r, s), start: time.Now()}
	w.Header().Set("X-Request-Id", c.id)
	d, served, err := s.deployment(name)
	if err != nil {
		writeError(w, c.id, deploymentStatus(err), err.Error(), nil)
		return nil, nil, nil, false
	}
	c.name, c.d = served, d
	if err := checkBinaryTensors(r); err != nil {
		s.fail(w, c, http.StatusUnsupportedMediaType, err.Error(), nil)
		return nil, nil, nil, false
	}
	if err := checkContentType(r.Header.Get("Content-Type")); err != nil {
		s.fail(w, c, http.StatusUnsupportedMediaType, err.Error(), nil)
		return nil, nil, nil, false
	}
	if !s.acquire(w, r, c, s.reading, "request bodies being read") {
		return nil, nil, nil, false
	}
	body, err = s.readRequestBody(w, r)
	<-s.reading
	if err != nil {
		var mbe *http.MaxBytesError
		var uce unsupportedEncoding
		switch {
		case errors.As(err, &mbe) && r.Header.Get("Content-Encoding") != "":
			s.fail(w, c, http.StatusRequestEntityTooLarge, fmt.Sprintf("request body over %d bytes (as sent or once decoded)%s", mbe.Limit, raiseHint("--max-body")), nil)
		case errors.As(err, &mbe):
			s.fail(w, c, http.StatusRequestEntityTooLarge, fmt.Sprintf("request body over %d bytes%s", mbe.Limit, raiseHint("--max-body")), nil)
		case errors.As(err, &uce):
			s.fail(w, c, http.StatusUnsupportedMediaType, uce.Error(), nil)
		default:
			s.o.Logger.Info("serve: request body not read", "request", c.id, "model", c.name, "err", err)
			s.fail(w, c, http.StatusBadRequest, bodyError(r.Header.Get("Content-Encoding"), err), nil)
		}
		return nil, nil, nil, false
	}
	if !s.acquire(w, r, c, s.slots, "requests running") {
		s.bodies.put(body)
		return nil, nil, nil, false
	}
	return c, body, func() { <-s.slots }, true
}

// acquire takes a place in sem, waiting up to QueueWait; when none frees
// up it answers 429 (what names what fills sem) and returns false.
func (s *Server) acquire(w http.ResponseWriter, r *http.Request, c *call, sem chan struct{}, what string) bool {
	// A free place is taken at once. Only then the wait: a goroutine the
	// scheduler held back past QueueWait would otherwise find the timer
	// fired and the place free together, and select picks at random (a
	// 429 from an idle server on a loaded machine).
	select {
	case sem <- struct{}{}:
		return true
	default:
	}
	timer := time.NewTimer(s.o.QueueWait)
	defer timer.Stop()
	select {
	case sem <- struct{}{}:
		return true
	case <-timer.C:
		s.fail(w, c, http.StatusTooManyRequests, fmt.Sprintf("server saturated: %d %s; retry later", cap(sem), what), nil)
	case <-r.Context().Done():
	}
	return false
}

// checkContentType refuses a request body of a media type no prediction
// route reads, as MLflow's scoring server does (415). A multipart upload
// of a CSV file (curl -F), XML or a V2 binary tensor body was read as
// JSON and answered "malformed JSON body: invalid character '-' in
// numeric literal". JSON may come untyped, as text/plain or as
// application/x-www-form-urlencoded (curl -d's default), which clients
// send without meaning it.
func checkContentType(ct string) error {
	if strings.TrimSpace(ct) == "" {
		return nil
	}
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		return fmt.Errorf("Content-Type %q cannot be parsed (%v): send application/json or text/csv", ct, err)
	}
	switch {
	case mt == "application/json", mt == "text/json", strings.HasSuffix(mt, "+json"),
		isCSV(mt),
		mt == "text/plain", mt == "application/x-www-form-urlencoded":
		return nil
	}
	return fmt.Errorf("Content-Type %q is not supported: send application/json (MLflow or V2 JSON) or text/csv", mt)
}

// checkBinaryTensors refuses a request of Triton's binary tensor data
// extension: a JSON header of Inference-Header-Content-Length bytes, then
// raw tensor bytes, as tritonclient sends inputs by default. Without a
// Content-Type such a body was read as JSON and refused with a 400,
// "trailing data after the JSON value", which did not say what to change.
// A header as long as the whole body carries no binary data and passes.
func checkBinaryTensors(r *http.Request) error {
	h := r.Header.Get("Inference-Header-Content-Length")
	if h == "" {
		return nil
	}
	if n, err := strconv.ParseInt(h, 10, 64); err == nil && n == r.ContentLength {
		return nil
	}
	return fmt.Errorf("binary tensor data (Inference-Header-Content-Length: %s of a %d-byte body) is not supported: "+
		"send every input's data as JSON (tritonclient: set_data_from_numpy(..., binary_data=False))", h, r.ContentLength)
}

// unsupportedEncoding is a Content-Encoding the server cannot decode.
type unsupportedEncoding string

func (e unsupportedEncoding) Error() string {
	return fmt.Sprintf("Content-Encoding %q is not supported: send the body as it is, gzip or deflate", string(e))
}

// readRequestBody reads r's body, decoded when its Content-Encoding is
// gzip or deflate (zlib, as HTTP means it), within MaxBodyBytes both as
// sent and decoded: a small compressed body may inflate to gigabytes.
// Without the decoding, a gzip body was read as the CSV or JSON it
// compresses and refused for columns it seemed to lack.
func (s *Server) readRequestBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	sent := http.MaxBytesReader(w, r.Body, s.o.MaxBodyBytes)
	var dec io.Reader
	var err error
	switch enc := strings.ToLower(strings.TrimSpace(r.Header.Get("Content-Encoding"))); enc {
	case "", "identity":
		return readBody(sent, r.ContentLength, s.o.MaxBodyBytes, s.bodies.get())
	case "gzip", "x-gzip":
		dec, err = gzip.NewReader(sent)
	case "deflate":
		dec, err = zlib.NewReader(sent)
	default:
		return nil, unsupportedEncoding(enc)
	}
	if err != nil {
		return nil, err
	}
	return readBody(http.MaxBytesReader(w, io.NopCloser(dec), s.o.MaxBodyBytes), -1, s.o.MaxBodyBytes, s.bodies.get())
}

// readBody reads a request body into one buffer of its declared length
// (within limit), sparing io.ReadAll's repeated growing; the buffer is
// reuse's memory when that is large enough (see bytesPool).
func readBody(r io.Reader, length, limit int64, reuse []byte) ([]byte, error) {
	if length <= 0 || length > limit {
		return io.ReadAll(r)
	}
	buf := reuse[:0]
	if int64(cap(buf)) < length {
		buf = make([]byte, length)
	}
	buf = buf[:length]
	if _, err := io.ReadFull(r, buf); err != nil {
		return nil, err
	}
	rest, err := io.ReadAll(r) // empty: net/http stops at the declared length
	return append(buf, rest...), err
}

// requestID is r's id: the one withRequestID gave it, else the client's
// X-Request-Id when it is short printable ASCII, else a new one.
func requestID(r *http.Request, s *Server) string {
	if id, ok := r.Context().Value(requestIDKey{}).(string); ok {
		return id
	}
	if id := r.Header.Get("X-Request-Id"); id != "" && len(id) <= 64 && strconv.QuoteToASCII(id) == `"`+id+`"` {
		return id
	}
	return s.nextID()
}

// frameFor reads table t of request c for predictor p, checking it
// against p's input contract. On failure it returns the status and
// message to send; a table that cannot be read is logged with the
// reader's whole error.
func (s *Server) frameFor(c *call, p *pipeline.Predictor, t *table) (*frame.Frame, *pipeline.InputReport, int, error) {
	if t.rows > s.o.MaxRows {
		return nil, nil, http.StatusRequestEntityTooLarge, errRows(t.rows, s.o.MaxRows, "request", "--max-rows")
	}
	x, rep, err := p.ReadInputFrom(t.read, frame.ReadOptions{})
	if err != nil {
		s.o.Logger.Info("serve: request rows not read", "request", c.id, "model", c.name, "err", err)
		msg := withoutReader(err)
		if t.csv != nil {
			msg = "CSV body: " + msg
		}
		return nil, nil, http.StatusBadRequest, errors.New(msg)
	}
	if x.NumRows() > s.o.MaxRows {
		return nil, nil, http.StatusRequestEntityTooLarge, errRows(x.NumRows(), s.o.MaxRows, "request", "--max-rows")
	}
	if err := rep.Err(s.o.Strict); err != nil {
		return nil, rep, http.StatusBadRequest, err
	}
	return x, rep, 0, nil
}

// withoutReader returns err's message without the layers the frame
// package wraps around a reading error ("frame: read csv: ", "frame:
// read rows: "): the client sent a request, not a file, and the package
// is the server's word. What is left names the row, line and column of
// its request (`row 1 (line 2) column "x": infinite value "Inf"`).
func withoutReader(err error) string {
	for {
		inner := errors.Unwrap(err)
		if inner == nil || !strings.HasPrefix(err.Error(), "frame: ") {
			return err.Error()
		}
		err = inner
	}
}

// bodyError says why a request body could not be read, in the client's
// terms: Go's decompressors name their packages ("gzip: invalid
// header", "flate: corrupt input before offset 5").
func bodyError(encoding string, err error) string {
	var corrupt flate.CorruptInputError
	switch {
	case errors.Is(err, gzip.ErrHeader), errors.Is(err, gzip.ErrChecksum), errors.Is(err, zlib.ErrHeader),
		errors.Is(err, zlib.ErrChecksum), errors.Is(err, zlib.ErrDictionary), errors.As(err, &corrupt):
		return fmt.Sprintf("the body is not valid %s data, which its Content-Encoding says it is", strings.TrimSpace(encoding))
	}
	return "read body: " + err.Error()
}

// errRows refuses a request (what: "request", "explain request") of n
// rows over limit, naming the serve flag that sets the limit.
func errRows(n, limit int, what, flag string) error {
	return fmt.Errorf("%d rows: at most %d per %s%s", n, limit, what, raiseHint(flag))
}

// raiseHint tells whoever meets a request limit (413) which flag of
// tabforge serve raises it: the client sees the limit, the operator
// needs the knob.
func raiseHint(flag string) string {
	return "; the server's operator can raise the limit with tabforge serve " + flag
}

// predict runs c's variant on c's table within the request deadline. A
// panic on this goroutine (reading the rows, a model predicting in
// sequence) is a 500: a shadow runs on a goroutine of its own, where it
// would have ended the process, and a request's panic would have dropped
// the connection without a word. A panic on a goroutine the model starts
// itself (a forest's trees, say) reaches this goroutine too: the
// worker pools (internal/par) re-raise their workers' panics on the
// goroutine that waits for them, with the worker's stack, which is the
// one logged.
func (s *Server) predict(ctx context.Context, c *call) (_ *pipeline.Prediction, _ *pipeline.InputReport, status int, err error) {
	defer func() {
		if p := recover(); p != nil {
			stack := debug.Stack()
			if wp, ok := p.(*par.Panic); ok {
				p, stack = wp.Value, wp.Stack
			}
			s.o.Logger.Error("serve: prediction panicked", "request", c.id, "model", c.name, "version", c.v.m.Version,
				"variant", c.variant, "panic", p, "stack", string(stack))
			status, err = http.StatusInternalServerError, fmt.Errorf("prediction failed (request %s)", c.id)
		}
	}()
	x, rep, status, err := s.frameFor(c, c.v.p, c.t)
	if err != nil {
		return nil, rep, status, err
	}
	pred, err := c.v.p.PredictContext(ctx, x)
	// A 503 or 500 carries no input report: its "unseen" or "extra"
	// columns, tolerated, read as the cause of the failure.
	if ctx.Err() != nil {
		return nil, nil, http.StatusServiceUnavailable, fmt.Errorf("request deadline of %s exceeded", s.o.RequestTimeout)
	}
	var nonFinite *pipeline.NonFiniteError
	if errors.As(err, &nonFinite) {
		// Most likely the input (1e308); logged too, in case the model
		// is what overflows on ordinary rows.
		s.o.Logger.Warn("serve: prediction not finite", "request", c.id, "model", c.name, "err", err)
		return nil, rep, http.StatusBadRequest, err
	}
	if err != nil {
		s.o.Logger.Error("serve: prediction failed", "request", c.id, "model", c.name, "err", err)
		return nil, nil, http.StatusInternalServerError, fmt.Errorf("prediction failed (request %s)", c.id)
	}
	return pred, rep, 0, nil
}

// handleInvocations serves MLflow's POST /invocations and
// /v1/models/{name}/invocations.
func (s *Server) handleInvocations(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	if name == "" {
		name = r.URL.Query().Get("model")
	}
	c, body, release, ok := s.begin(w, r, name)
	if !ok {
		return
	}
	defer release()
	ctx, cancel := context.WithTimeout(r.Context(), s.o.RequestTimeout)
	defer cancel()
	t, err := decodeMLflow(body, r.Header.Get("Content-Type"), c.d.plan.Key, s.columns.get())
	if err != nil {
		s.fail(w, c, http.StatusBadRequest, err.Error(), nil)
		return
	}
	c.t = t
	if len(c.d.shadows) == 0 { // shadows read the table (and a CSV body) after the response
		defer s.columns.put(t)
		defer s.bodies.put(body)
	}
	c.v, c.variant = s.choose(c.d, routingKey(r.Header.Get("X-Routing-Key"), t), s.seq.Add(1))
	s.noteIgnoredParams(c)
	pred, rep, status, err := s.predict(ctx, c)
	if err != nil {
		s.fail(w, c, status, err.Error(), rep)
		return
	}
	out := predictions(c.v.p, pred)
	s.logServed(c, out)
	w.Header().Set("X-Model-Version", c.v.m.Version)
	writeJSON(w, http.StatusOK, map[string]any{"predictions": out})
	s.after(c, pred)
}

// logServed queues the log line of a prediction before its response is
// written, so that a client that has its answer knows the line is queued:
// a log rotation (ReopenLog) after that puts the line in the old file.
func (s *Server) logServed(c *call, out any) {
	if s.log != nil {
		s.log.write(c, false, out, s.o.LogInputs)
	}
}

// after records a served prediction and sends its rows to the shadows.
func (s *Server) after(c *call, pred *pipeline.Prediction) {
	s.metrics.observe(c, http.StatusOK)
	s.metrics.observePrediction(c, pred)
	for _, sv := range c.d.shadows {
		s.shadow(c, sv)
	}
}

// shadow runs sv on c's rows in the background and logs the answer;
// when too many shadow predictions are running, or the server has
// drained, it drops this one.
func (s *Server) shadow(c *call, sv *variant) {
	s.shadowMu.Lock()
	defer s.shadowMu.Unlock()
	if s.drained {
		s.metrics.shadowDropped.WithLabelValues(c.name).Inc()
		return
	}
	select {
	case s.shadowQ <- struct{}{}:
	default:
		s.metrics.shadowDropped.WithLabelValues(c.name).Inc()
		return
	}
	sc := &call{id: c.id, start: time.Now(), name: c.name, d: c.d, v: sv, variant: "shadow", t: c.t}
	s.shadows.Go(func() {
		defer func() { <-s.shadowQ }()
		ctx, cancel := context.WithTimeout(context.Background(), s.o.RequestTimeout)
		defer cancel()
		pred, _, status, err := s.predict(ctx, sc)
		if err != nil {
			s.metrics.observe(sc, status)
			return
		}
		s.metrics.observe(sc, http.StatusOK)
		s.metrics.observePrediction(sc, pred)
		if s.log != nil {
			s.log.write(sc, true, predictions(sv.p, pred), s.o.LogInputs)
		}
	})
}

// predictions lays a prediction out as `tabforge predict` writes it:
// one value per row for regression; for classifiers one record per row
// with the predicted label and prob_<class> for every class.
func predictions(p *pipeline.Predictor, pred *pipeline.Prediction) any {
	if p.Target.Task == model.Regression {
		return pred.Values
	}
	k := len(p.Target.Classes)
	out := make([]map[string]any, len(pred.Labels))
	for i, l := range pred.Labels {
		rec := make(map[string]any, k+1)
		rec["prediction"] = l
		for c, name := range p.Target.Classes {
			rec[pipeline.ProbColumn(name)] = pred.Probs[i*k+c]
		}
		out[i] = rec
	}
	return out
}

// inputsHash is the SHA-256 of a table's CSV text, logged in place of
// the inputs.
func inputsHash(t *table) string {
	h := sha256.Sum256(t.text())
	return hex.EncodeToString(h[:])
}
