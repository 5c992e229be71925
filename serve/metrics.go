package serve

import (
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/tabforge/tabforge/model"
	"github.com/tabforge/tabforge/pipeline"
)

// metrics are the server's Prometheus metrics, in a registry of its own
// (no global state). Labels are bounded: served names, loaded versions,
// route targets, status codes and class labels of the models.
type metrics struct {
	reg           *prometheus.Registry
	requests      *prometheus.CounterVec
	duration      *prometheus.HistogramVec
	values        *prometheus.HistogramVec
	classes       *prometheus.CounterVec
	info          *prometheus.GaugeVec
	loadSeconds   *prometheus.HistogramVec
	loadErrors    *prometheus.CounterVec
	swaps         *prometheus.CounterVec
	shadowDropped *prometheus.CounterVec
	logDropped    prometheus.Counter
}

// valueBuckets spans regression outputs of either sign from 1e-3 to 1e9
// in powers of ten: one set has to fit every model a server may load.
func valueBuckets() []float64 {
	var pos []float64
	for e := -3; e <= 9; e++ {
		pos = append(pos, pow10(e))
	}
	out := make([]float64, 0, 2*len(pos)+1)
	for i := len(pos) - 1; i >= 0; i-- {
		out = append(out, -pos[i])
	}
	out = append(out, 0)
	return append(out, pos...)
}

func pow10(e int) float64 {
	v := 1.0
	for ; e > 0; e-- {
		v *= 10
	}
	for ; e < 0; e++ {
		v /= 10
	}
	return v
}

func newMetrics() *metrics {
	lv := []string{"model", "version", "variant"}
	m := &metrics{
		reg: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "tabforge_requests_total",
			Help: "Prediction and explain requests by model, version, variant (route target, shadow, pinned, explain) and HTTP status."},
			append(lv, "code")),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "tabforge_request_duration_seconds",
			Help: "Time from a request's arrival to its response, for answered (200) requests, per model, version and variant.",
			// Up to the default request deadline (30s) and write timeout
			// (60s): ending at 10s, a batch answered in 25s fell in +Inf,
			// and histogram_quantile reported it as 10s.
			Buckets: []float64{.0005, .001, .002, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60}}, lv),
		values: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "tabforge_prediction_value",
			Help: "Predicted values of regression models.", Buckets: valueBuckets()}, lv),
		classes: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "tabforge_predicted_class_total",
			Help: "Predicted labels of classifiers, per class."}, append(lv, "class")),
		info: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "tabforge_model_info",
			Help: "1 for every loaded model version, with its family, task and role (production, split target or shadow)."},
			[]string{"model", "version", "family", "task", "role"}),
		loadSeconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "tabforge_model_load_seconds",
			Help: "Time to load and check one model version.", Buckets: prometheus.ExponentialBuckets(0.001, 4, 10)}, []string{"model"}),
		loadErrors: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "tabforge_model_load_errors_total",
			Help: "Failures to load or check a model version, each distinct failure counted once (a production version's previous deployment keeps serving; a routed version's traffic goes to the others)."}, []string{"model"}),
		swaps: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "tabforge_model_swaps_total",
			Help: "Deployments swapped in (first load, promotion, rollback, route change)."}, []string{"model"}),
		shadowDropped: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "tabforge_shadow_dropped_total",
			Help: "Shadow predictions skipped because too many were running."}, []string{"model"}),
		logDropped: prometheus.NewCounter(prometheus.CounterOpts{Name: "tabforge_prediction_log_dropped_total",
			Help: "Prediction log lines dropped because the log writer fell behind."}),
	}
	m.reg.MustRegister(m.requests, m.duration, m.values, m.classes, m.info, m.loadSeconds, m.loadErrors, m.swaps,
		m.shadowDropped, m.logDropped, collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

func (m *metrics) handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
}

// observe counts a finished request; c.v is nil for requests that failed
// before a version was chosen.
func (m *metrics) observe(c *call, status int) {
	version := ""
	if c.v != nil {
		version = c.v.m.Version
	}
	m.requests.WithLabelValues(c.name, version, c.variant, strconv.Itoa(status)).Inc()
	if status == http.StatusOK {
		m.duration.WithLabelValues(c.name, version, c.variant).Observe(time.Since(c.start).Seconds())
	}
}

func (m *metrics) observePrediction(c *call, pred *pipeline.Prediction) {
	if c.v.p.Target.Task == model.Regression {
		h := m.values.WithLabelValues(c.name, c.v.m.Version, c.variant)
		for _, v := range pred.Values {
			h.Observe(v)
		}
		return
	}
	counts := map[string]int{}
	for _, l := range pred.Labels {
		counts[l]++
	}
	for l, n := range counts {
		m.classes.WithLabelValues(c.name, c.v.m.Version, c.variant, l).Add(float64(n))
	}
}

// setInfo rewrites tabforge_model_info for the loaded set, and brings
// the failure counters of each loaded name into being at 0: a counter
// first exported at 1 gives increase() and rate() no earlier sample, so
// an alert on the first load failure or dropped shadow would never fire.
func (m *metrics) setInfo(set *modelSet) {
	m.info.Reset()
	for name, d := range set.names {
		m.loadErrors.WithLabelValues(name)
		m.shadowDropped.WithLabelValues(name)
		roles := map[string]string{d.plan.Production: "production"}
		for _, sh := range d.split {
			if roles[sh.v.m.Version] == "" {
				roles[sh.v.m.Version] = "split"
			}
		}
		for _, v := range d.shadows {
			if roles[v.m.Version] == "" {
				roles[v.m.Version] = "shadow"
			}
		}
		for version, v := range d.variants {
			m.info.WithLabelValues(name, version, v.p.Family(), string(v.p.Target.Task), roles[version]).Set(1)
		}
	}
}
