package continuous_test

import (
	"fmt"
	"log"
	"strings"

	"github.com/tabforge/tabforge/continuous"
)

// Realise joins the prediction log `tabforge serve --prediction-log` wrote
// with the outcomes that arrived later, and scores each model version per
// day on the rows that now have an actual.
func ExampleRealise() {
	predictions := strings.NewReader(`{"request_id":"r1","time":"2024-03-01T10:00:00Z","model":"price","version":"v1","predictions":[10,20]}
{"request_id":"r2","time":"2024-03-01T11:00:00Z","model":"price","version":"v1","predictions":[30]}
{"request_id":"r3","time":"2024-03-02T09:00:00Z","model":"price","version":"v2","predictions":[41]}
{"request_id":"r4","time":"2024-03-02T09:30:00Z","model":"price","version":"v2","predictions":[50]}
`)
	// row is the row within a multi-row request; r4's outcome is not known yet.
	actuals := strings.NewReader("request_id,row,actual\nr1,0,12\nr1,1,18\nr2,0,30\nr3,0,40\n")

	rep, err := continuous.Realise(predictions, actuals, continuous.RealiseOptions{})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%d predicted rows, %d joined, %d unmatched actuals\n", rep.Predictions, rep.Joined, rep.Unmatched)
	for _, g := range rep.Groups {
		fmt.Printf("%s %s %s: %d rows, mae %.2f\n", g.Day, g.Model, g.Version, g.Rows, g.Metrics["mae"])
	}
	// Output:
	// 5 predicted rows, 4 joined, 0 unmatched actuals
	// 2024-03-01 price v1: 3 rows, mae 1.33
	// 2024-03-02 price v2: 1 rows, mae 1.00
}
