package ensemble_test

import (
	"context"
	"fmt"
	"log"
	"math"

	"github.com/tabforge/tabforge/ensemble"
	"github.com/tabforge/tabforge/model"
	"github.com/tabforge/tabforge/model/gbdt"
	"github.com/tabforge/tabforge/model/linear"
	"github.com/tabforge/tabforge/split"
)

// Select picks voting weights from members' out-of-fold predictions; a
// Combiner then averages predictions the members made elsewhere.
func ExampleSelect() {
	y := []float64{1, 2, 3, 4}
	oof := [][]float64{
		{1.1, 2.1, 2.9, 4.2}, // close to y
		{2, 3, 4, 5},         // biased by +1
		{0.5, 1.6, 2.5, 3.4}, // biased by about -0.5
	}
	weights, err := ensemble.Select(oof, y, model.Regression, 10)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("weights:", weights)

	c, err := ensemble.VotingCombiner(len(oof), 1, weights)
	if err != nil {
		log.Fatal(err)
	}
	dst := make([]float64, 2) // two new rows, one output each
	if err := c.Combine(dst, [][]float64{{10, 20}, {11, 21}, {9.5, 19.5}}); err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%s of %d members: %.2f\n", c.Kind(), c.NumMembers(), dst)
	// Output:
	// weights: [0.8 0 0.2]
	// voting of 3 members: [9.90 19.90]
}

// OutOfFold gives each learner's honest predictions on the training rows;
// the members themselves are fitted on all rows and combined by Voting.
func ExampleVoting() {
	ctx := context.Background()
	x := model.NewMatrix(40, 1)
	y := make([]float64, 40)
	for i := range 40 {
		x.Data[i], y[i] = float64(i), float64(i)/2+3*math.Sin(float64(i)/2)
	}
	d := &model.Dataset{X: x, Y: y, Task: model.Regression}
	folds, err := split.KFold(40, 4, true, 1)
	if err != nil {
		log.Fatal(err)
	}
	var members []model.Model
	var oof [][]float64
	for _, l := range []model.Learner{linear.Regression{}, gbdt.Params{NEstimators: 5, Seed: 1}} {
		p, err := ensemble.OutOfFold(ctx, l, d, folds, model.FitOptions{})
		if err != nil {
			log.Fatal(err)
		}
		m, err := l.Fit(ctx, d, model.FitOptions{})
		if err != nil {
			log.Fatal(err)
		}
		oof, members = append(oof, p), append(members, m)
	}
	weights, err := ensemble.Select(oof, y, model.Regression, 20)
	if err != nil {
		log.Fatal(err)
	}
	e, err := ensemble.Voting(members, weights)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(e.Family(), e.Kind(), "of", len(e.Members()), "members, weights", e.Weights())
	// Output:
	// ensemble voting of 2 members, weights [0.55 0.45]
}
