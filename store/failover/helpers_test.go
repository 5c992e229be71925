package failover_test

import (
	"strconv"

	"github.com/tabforge/tabforge/store/sqlite"
)

func sqliteRun(id string) sqlite.Pending { return sqlite.Pending{Kind: "run", A: id} }

func sqliteTrial(study string, n int) sqlite.Pending {
	return sqlite.Pending{Kind: "trial", A: study, B: strconv.Itoa(n)}
}
