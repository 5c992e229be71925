// Package synth generates seeded synthetic tables for tabforge's demos,
// tests and benchmarks. The data are synthetic: they have the shape of
// real data sets, not their content.
//
// Sales writes an order table with the columns of the US Regional Sales
// dataset, whose order quantity depends on time (trend, weekly and yearly
// seasonality), promotions, channel, product and price, and which can
// shift at a given month, for the continuous-learning loop (drift,
// retrain, backtest).
package synth

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"time"

	"gonum.org/v1/gonum/stat/distuv"

	"github.com/tabforge/tabforge/frame"
)

// SalesColumns are the columns of Sales, in order; the target is
// order_quantity.
var SalesColumns = []string{"order_number", "sales_channel", "warehouse", "procured_date", "order_date", "ship_date",
	"delivery_date", "sales_team", "customer", "store", "region", "state", "product", "discount", "unit_price",
	"unit_cost", "order_quantity"}

// SalesParams configure Sales; the zero value gives 10,000 rows over 24
// months from 2022-01-01 with seed 0 and no shift.
type SalesParams struct {
	Rows   int       // 0 means 10,000
	Seed   uint64    // the same seed and parameters give the same table
	Start  time.Time // first order day; zero means 2022-01-01 (UTC)
	Months int       // months of orders; 0 means 24
	// DriftAt, when set, is the first month of the shifted market: the
	// Online channel grows from 25% to 55% of orders, mostly in the West,
	// with premium products, deeper discounts and another warehouse mix
	// (covariate shift), and Online buyers become twice as price
	// sensitive while the promotion lift halves (concept shift).
	DriftAt time.Time
}

func (p SalesParams) rows() int { return cmp0(p.Rows, 10_000) }
func (p SalesParams) months() int {
	return cmp0(p.Months, 24)
}
func (p SalesParams) start() time.Time {
	if p.Start.IsZero() {
		return time.Date(2022, 1, 1, 0, 0, 0, 0, time.UTC)
	}
	y, m, d := p.Start.Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

func cmp0(v, def int) int {
	if v == 0 {
		return def
	}
	return v
}

// market is one regime of the generator: who orders what, and how
// quantity answers to price and promotions.
type market struct {
	channels   []float64 // shares of In-Store, Online, Distributor, Wholesale
	regions    []float64 // shares of Northeast, Midwest, South, West
	premium    float64   // probability an order is for a premium product
	discounts  []float64 // weights of discountLevels outside promotions
	warehouses []float64 // weights of the warehouses
	elasticity []float64 // price elasticity per channel
	promoLift  float64   // log-quantity lift during a promotion
}

var (
	channelNames   = []string{"In-Store", "Online", "Distributor", "Wholesale"}
	regionNames    = []string{"Northeast", "Midwest", "South", "West"}
	discountLevels = []float64{0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4}
	channelEffect  = []float64{0, 0.1, 0.35, 0.5}
	weekday        = []float64{-0.15, 0.05, 0.05, 0.0, 0.1, 0.2, -0.25} // Sunday first
	before         = market{
		channels: []float64{0.40, 0.25, 0.15, 0.20}, regions: []float64{0.2, 0.25, 0.35, 0.2}, premium: 0.2,
		discounts: []float64{4, 3, 3, 1, 0.5, 0.2, 0.1}, warehouses: []float64{3, 2, 2, 1, 1, 1},
		elasticity: []float64{1.0, 1.2, 0.8, 0.6}, promoLift: 0.4,
	}
	after = market{
		channels: []float64{0.22, 0.55, 0.10, 0.13}, regions: []float64{0.12, 0.15, 0.28, 0.45}, premium: 0.45,
		discounts: []float64{1, 1, 2, 3, 3, 1, 0.5}, warehouses: []float64{1, 1, 1, 2, 4, 4},
		elasticity: []float64{1.0, 2.4, 0.8, 0.6}, promoLift: 0.2,
	}
)

// Sales generates p.Rows orders, one row each, in order-date order. It
// checks ctx every 64k rows. About a second per million rows.
func Sales(ctx context.Context, p SalesParams) (*frame.Frame, error) {
	n, start := p.rows(), p.start()
	end := start.AddDate(0, p.months(), 0)
	if n < 0 || p.months() < 0 {
		return nil, fmt.Errorf("synth: rows %d and months %d must be positive", n, p.months())
	}
	// Orders are procured up to 99 days before their day and delivered
	// up to 40 days after it: those dates must be writable too.
	if first := start.AddDate(0, 0, -99); first.Unix() < frame.MinUnix {
		return nil, fmt.Errorf("synth: start %s: orders are procured from %s, before the year 0 that dates can be written in", start.Format(time.DateOnly), first.Format(time.DateOnly))
	}
	if last := end.AddDate(0, 0, 40); last.Unix() > frame.MaxUnix {
		return nil, fmt.Errorf("synth: %d months from %s deliver until %s, after the year 9999 that dates can be written in", p.months(), start.Format(time.DateOnly), last.Format(time.DateOnly))
	}
	w := newWorld(p.Seed)
	days := daysBetween(start, end)
	driftDay := math.MaxInt
	if !p.DriftAt.IsZero() {
		y, m, _ := p.DriftAt.Date()
		at := time.Date(y, m, 1, 0, 0, 0, 0, time.UTC)
		if !at.Before(end) {
			return nil, fmt.Errorf("synth: the shift at %s comes after the last order month (%s): no order would shift", at.Format("2006-01"), end.AddDate(0, -1, 0).Format("2006-01"))
		}
		driftDay = daysBetween(start, at) // negative: every order is in the shifted market
	}
	c := newSalesColumns(n)
	r := rand.New(rand.NewPCG(p.Seed, 0x5a1e5))
	for i := range n {
		if i%(1<<16) == 0 {
			if err := ctx.Err(); err != nil {
				return nil, fmt.Errorf("synth: row %d: %w", i, err)
			}
		}
		day := int((float64(i) + r.Float64()) * float64(days) / float64(n))
		m := &before
		if day >= driftDay {
			m = &after
		}
		c.order(i, r, w, m, start.AddDate(0, 0, day))
	}
	return c.frame(w)
}

// daysBetween counts the days from a to b (both UTC midnights). It goes
// through Unix seconds, not time.Duration, which saturates at about 292
// years: 4,000 months from 1700 ended in 1990 and a shift at 2000 never
// came.
func daysBetween(a, b time.Time) int {
	return int((b.Unix() - a.Unix()) / 86400)
}

// world is the fixed cast of a seed: stores with their region and state,
// products with their base price, and the names of teams and customers.
type world struct {
	storeRegion  []int // region index of each store
	storeState   []int32
	regionStores [][]int32
	states       []string
	products     []string
	basePrice    []float64
	productLift  []float64
	stores       []string
	teams        []string
	customers    []string
	warehouses   []string
}

// regionStates are a few US state codes per region.
var regionStates = [][]string{
	{"CT", "MA", "NJ", "NY", "PA"}, {"IL", "IN", "MI", "MN", "OH", "WI"},
	{"FL", "GA", "NC", "TN", "TX", "VA"}, {"AZ", "CA", "CO", "OR", "WA"},
}

func newWorld(seed uint64) *world {
	r := rand.New(rand.NewPCG(seed, 0x3051d))
	w := &world{regionStores: make([][]int32, len(regionNames))}
	for _, ss := range regionStates {
		w.states = append(w.states, ss...)
	}
	for s := range 300 {
		reg := s % len(regionNames)
		st := 0
		for k := range reg {
			st += len(regionStates[k])
		}
		st += r.IntN(len(regionStates[reg]))
		w.storeRegion = append(w.storeRegion, reg)
		w.storeState = append(w.storeState, int32(st))
		w.regionStores[reg] = append(w.regionStores[reg], int32(s))
		w.stores = append(w.stores, fmt.Sprintf("Store %03d", s+1))
	}
	for k := range 30 {
		w.products = append(w.products, fmt.Sprintf("Product %02d", k+1))
		// The last 8 are premium: dearer, and bought in smaller numbers.
		price := math.Exp(3 + 1.2*r.Float64())
		lift := 0.3 * r.NormFloat64()
		if k >= 22 {
			price *= 6
			lift -= 0.3
		}
		w.basePrice = append(w.basePrice, math.Round(price*100)/100)
		w.productLift = append(w.productLift, lift)
	}
	for k := range 28 {
		w.teams = append(w.teams, fmt.Sprintf("Team %02d", k+1))
	}
	for k := range 50 {
		w.customers = append(w.customers, fmt.Sprintf("Customer %03d", k+1))
	}
	for _, code := range []string{"AXW291", "FLR025", "GUT930", "NMK428", "PXL920", "UHY519"} {
		w.warehouses = append(w.warehouses, "WARE-"+code)
	}
	return w
}

// pick draws an index with probability proportional to weights.
func pick(r *rand.Rand, weights []float64) int {
	total := 0.0
	for _, x := range weights {
		total += x
	}
	u := r.Float64() * total
	for i, x := range weights {
		if u < x {
			return i
		}
		u -= x
	}
	return len(weights) - 1
}

// promotion reports whether day d is in a promotion: the last week of
// November (Black Friday) through the end of December, and the first
// ten days of each quarter.
func promotion(d time.Time) bool {
	m, day := d.Month(), d.Day()
	switch {
	case m == time.November && day >= 22, m == time.December:
		return true
	case (m == time.January || m == time.April || m == time.July || m == time.October) && day <= 10:
		return true
	}
	return false
}

// salesColumns holds the generated values column by column.
type salesColumns struct {
	channel, warehouse, team, customer, store, region, state, product []int32
	procured, ordered, shipped, delivered                             []float64
	discount, price, cost, quantity                                   []float64
}

func newSalesColumns(n int) *salesColumns {
	i32 := func() []int32 { return make([]int32, n) }
	f64 := func() []float64 { return make([]float64, n) }
	return &salesColumns{channel: i32(), warehouse: i32(), team: i32(), customer: i32(), store: i32(), region: i32(),
		state: i32(), product: i32(), procured: f64(), ordered: f64(), shipped: f64(), delivered: f64(),
		discount: f64(), price: f64(), cost: f64(), quantity: f64()}
}

// order fills row i: an order placed on day d in market m.
func (c *salesColumns) order(i int, r *rand.Rand, w *world, m *market, d time.Time) {
	ch := pick(r, m.channels)
	reg := pick(r, m.regions)
	st := w.regionStores[reg][r.IntN(len(w.regionStores[reg]))]
	prod := r.IntN(22)
	if r.Float64() < m.premium {
		prod = 22 + r.IntN(8)
	}
	promo := promotion(d)
	disc := 0.0
	if promo || r.Float64() < 0.5 {
		disc = discountLevels[pick(r, m.discounts)]
		if promo {
			disc = max(disc, 0.15)
		}
	}
	price := math.Round(w.basePrice[prod]*(1+0.1*r.NormFloat64())*100) / 100
	price = max(price, 1)
	net := price * (1 - disc)
	// log expected quantity: trend, seasonality, promotion, channel,
	// product, and price relative to the product's list price.
	years := d.Sub(time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)).Hours() / (24 * 365.25)
	logq := 1.1 + 0.08*years + weekday[d.Weekday()] + 0.25*math.Sin(2*math.Pi*(float64(d.YearDay())-80)/365.25) +
		channelEffect[ch] + w.productLift[prod] - m.elasticity[ch]*math.Log(net/w.basePrice[prod])
	if promo {
		logq += m.promoLift
	}
	q := 1 + distuv.Poisson{Lambda: math.Exp(logq + 0.15*r.NormFloat64()), Src: r}.Rand()
	day := float64(d.Unix())
	const sec = 24 * 3600
	c.channel[i], c.region[i], c.store[i], c.state[i], c.product[i] = int32(ch), int32(reg), st, w.storeState[st], int32(prod)
	c.warehouse[i], c.team[i], c.customer[i] = int32(pick(r, m.warehouses)), int32(r.IntN(len(w.teams))), int32(r.IntN(len(w.customers)))
	c.ordered[i] = day
	c.procured[i] = day - float64(10+r.IntN(90))*sec
	c.shipped[i] = day + float64(1+r.IntN(30))*sec
	c.delivered[i] = c.shipped[i] + float64(1+r.IntN(10))*sec
	c.discount[i], c.price[i] = disc, price
	c.cost[i] = math.Round(price*(0.45+0.3*r.Float64())*100) / 100
	c.quantity[i] = min(q, 99)
}

// frame assembles the columns in SalesColumns order.
func (c *salesColumns) frame(w *world) (*frame.Frame, error) {
	n := len(c.ordered)
	numbers := make([]string, n)
	codes := make([]int32, n)
	for i := range n {
		numbers[i], codes[i] = fmt.Sprintf("SO-%08d", i+1), int32(i)
	}
	cat := frame.NewCategorical
	return frame.New(
		cat("order_number", codes, numbers),
		cat("sales_channel", c.channel, channelNames),
		cat("warehouse", c.warehouse, w.warehouses),
		frame.NewDatetime("procured_date", c.procured),
		frame.NewDatetime("order_date", c.ordered),
		frame.NewDatetime("ship_date", c.shipped),
		frame.NewDatetime("delivery_date", c.delivered),
		cat("sales_team", c.team, w.teams),
		cat("customer", c.customer, w.customers),
		cat("store", c.store, w.stores),
		cat("region", c.region, regionNames),
		cat("state", c.state, w.states),
		cat("product", c.product, w.products),
		frame.NewNumeric("discount", c.discount),
		frame.NewNumeric("unit_price", c.price),
		frame.NewNumeric("unit_cost", c.cost),
		frame.NewNumeric("order_quantity", c.quantity),
	)
}
