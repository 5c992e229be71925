package config_test

import (
	"fmt"

	"github.com/tabforge/tabforge/config"
)

// The research profile, one environment variable and two --set flags, as
// `TABFORGE_MAX_EVALS=20 tabforge train --profile research --set ...`
// would pass them. The build here implements no optional stage yet.
func ExampleLoad() {
	c, prov, err := config.Load(config.Sources{
		Profile: "research",
		Env:     []string{"TABFORGE_MAX_EVALS=20", "HOME=/root"},
		Set:     []string{"target=Sale_Price", "min_r2_threshold=0.8"},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, key := range []string{"target", "max_evals", "enable_hyperparameter_tuning", "min_r2_threshold", "seed"} {
		v, _ := c.Get(key)
		fmt.Printf("%s = %v (%s)\n", key, v, prov.Origin(key))
	}

	errs, warnings := c.Unavailable(config.Capabilities{Version: "tabforge 0.1"}, prov)
	fmt.Println(len(errs), "errors,", len(warnings), "warnings")
	fmt.Println(warnings[3])

	_, _, err = config.Load(config.Sources{Set: []string{"max_eval=20"}})
	fmt.Println(err)
	// Output:
	// target = Sale_Price (flag:--set)
	// max_evals = 20 (env:TABFORGE_MAX_EVALS)
	// enable_hyperparameter_tuning = true (profile:research)
	// min_r2_threshold = 0.8 (flag:--set)
	// seed = 42 (default)
	// 0 errors, 6 warnings
	// enable_hyperparameter_tuning: not available yet (tabforge 0.1 implements: the basic path); on by profile:research, continuing without hyperparameter tuning
	// config: unknown key "max_eval" in flag:--set; did you mean max_evals?
}
