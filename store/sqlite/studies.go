package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/tabforge/tabforge/store"
	"github.com/tabforge/tabforge/tune"
)

// The study tables follow Optuna's RDB storage in miniature: one row per
// study, per trial, per parameter and per intermediate value. CreateStudy
// creates them, so stores that never tune stay unchanged.
const studySchema = `
CREATE TABLE IF NOT EXISTS studies (
	id        INTEGER PRIMARY KEY AUTOINCREMENT,
	name      TEXT NOT NULL UNIQUE,
	direction TEXT NOT NULL,
	created   INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS trials (
	id        INTEGER PRIMARY KEY AUTOINCREMENT,
	study_id  INTEGER NOT NULL REFERENCES studies(id),
	number    INTEGER NOT NULL,
	state     TEXT NOT NULL,
	value     REAL,
	retry_of  INTEGER NOT NULL DEFAULT -1,
	error     TEXT NOT NULL DEFAULT '',
	started   INTEGER NOT NULL DEFAULT 0,
	finished  INTEGER NOT NULL DEFAULT 0,
	UNIQUE (study_id, number)
);
CREATE TABLE IF NOT EXISTS trial_params (
	trial_id     INTEGER NOT NULL REFERENCES trials(id),
	name         TEXT NOT NULL,
	value        REAL NOT NULL,
	distribution TEXT NOT NULL,
	PRIMARY KEY (trial_id, name)
);
CREATE TABLE IF NOT EXISTS trial_values (
	trial_id INTEGER NOT NULL REFERENCES trials(id),
	step     INTEGER NOT NULL,
	value    REAL,
	PRIMARY KEY (trial_id, step)
);
`

var _ tune.Storage = (*Store)(nil)

// initStudies creates the study tables if needed; CreateStudy, which
// tune calls before anything else, runs it.
func (s *Store) initStudies(ctx context.Context) error {
	_, err := s.db.ExecContext(ctx, studySchema)
	return err
}

// nullable maps NaN (no value) to SQL NULL: SQLite stores NaN as NULL
// anyway, and reading it back must give NaN.
func nullable(v float64) any {
	if math.IsNaN(v) {
		return nil
	}
	return v
}

func fromNullable(v sql.NullFloat64) float64 {
	if !v.Valid {
		return math.NaN()
	}
	return v.Float64
}

// CreateStudy implements tune.Storage.
func (s *Store) CreateStudy(ctx context.Context, name string, d tune.Direction) (int64, error) {
	if err := s.initStudies(ctx); err != nil {
		return 0, fmt.Errorf("create study %q: %w", name, err)
	}
	if _, err := s.db.ExecContext(ctx, `INSERT INTO studies (name, direction, created) VALUES (?, ?, ?) ON CONFLICT(name) DO NOTHING`,
		name, string(d), time.Now().UnixNano()); err != nil {
		return 0, fmt.Errorf("create study %q: %w", name, err)
	}
	var (
		id  int64
		dir string
	)
	if err := s.db.QueryRowContext(ctx, `SELECT id, direction FROM studies WHERE name = ?`, name).Scan(&id, &dir); err != nil {
		return 0, fmt.Errorf("create study %q: %w", name, err)
	}
	if tune.Direction(dir) != d {
		return 0, fmt.Errorf("study %q exists with direction %s, not %s", name, dir, d)
	}
	return id, nil
}

// CreateTrial implements tune.Storage. The number is assigned inside the
// insert, so concurrent writers (several processes) never share one.
func (s *Store) CreateTrial(ctx context.Context, studyID int64, t tune.FrozenTrial) (id int64, number int, err error) {
	if t.State != tune.Running && t.State != tune.Waiting {
		return 0, 0, fmt.Errorf("create trial in state %s: %w", t.State, tune.ErrStateConflict)
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return 0, 0, fmt.Errorf("create trial: %w", err)
	}
	defer func() {
		if err != nil {
			tx.Rollback()
		}
	}()
	var started int64
	if t.State == tune.Running {
		started = time.Now().UnixNano()
	}
	err = tx.QueryRowContext(ctx, `INSERT INTO trials (study_id, number, state, value, retry_of, started)
		VALUES (?, (SELECT COALESCE(MAX(number), -1) + 1 FROM trials WHERE study_id = ?), ?, NULL, ?, ?)
		RETURNING id, number`, studyID, studyID, string(t.State), t.RetryOf, started).Scan(&id, &number)
	if err != nil {
		return 0, 0, fmt.Errorf("create trial: %w", err)
	}
	for name, v := range t.Params {
		dist, err := json.Marshal(t.Distributions[name])
		if err != nil {
			return 0, 0, fmt.Errorf("create trial: parameter %q: %w", name, err)
		}
		if _, err = tx.ExecContext(ctx, `INSERT INTO trial_params (trial_id, name, value, distribution) VALUES (?, ?, ?, ?)`,
			id, name, v, string(dist)); err != nil {
			return 0, 0, fmt.Errorf("create trial: parameter %q: %w", name, err)
		}
	}
	if err = tx.Commit(); err != nil {
		return 0, 0, fmt.Errorf("create trial: %w", err)
	}
	return id, number, nil
}

// setState moves trial id from state from to the values in set, failing
// with tune.ErrStateConflict if it is not in state from.
func (s *Store) setState(ctx context.Context, id int64, from tune.State, set string, args ...any) error {
	res, err := s.db.ExecContext(ctx, `UPDATE trials SET `+set+` WHERE id = ? AND state = ?`, append(args, id, string(from))...)
	if err != nil {
		return err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n == 0 {
		var state string
		if err := s.db.QueryRowContext(ctx, `SELECT state FROM trials WHERE id = ?`, id).Scan(&state); errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("unknown trial id %d", id)
		}
		return fmt.Errorf("trial %d is %s, not %s: %w", id, state, from, tune.ErrStateConflict)
	}
	return nil
}

// ClaimTrial implements tune.Storage.
func (s *Store) ClaimTrial(ctx context.Context, trialID int64) error {
	if err := s.setState(ctx, trialID, tune.Waiting, `state = ?, started = ?`, string(tune.Running), time.Now().UnixNano()); err != nil {
		return fmt.Errorf("claim trial: %w", err)
	}
	return nil
}

// running checks that trial id is Running.
func (s *Store) running(ctx context.Context, tx *sql.Tx, id int64) error {
	var state string
	if err := tx.QueryRowContext(ctx, `SELECT state FROM trials WHERE id = ?`, id).Scan(&state); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("unknown trial id %d", id)
		}
		return err
	}
	if tune.State(state) != tune.Running {
		return fmt.Errorf("trial %d is %s: %w", id, state, tune.ErrStateConflict)
	}
	return nil
}

// SetTrialParam implements tune.Storage.
func (s *Store) SetTrialParam(ctx context.Context, trialID int64, name string, d tune.Distribution, value float64) error {
	dist, err := json.Marshal(d)
	if err != nil {
		return fmt.Errorf("set parameter %q: %w", name, err)
	}
	err = s.inTx(ctx, func(tx *sql.Tx) error {
		if err := s.running(ctx, tx, trialID); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO trial_params (trial_id, name, value, distribution) VALUES (?, ?, ?, ?)
			ON CONFLICT(trial_id, name) DO UPDATE SET value = excluded.value, distribution = excluded.distribution`,
			trialID, name, value, string(dist))
		return err
	})
	if err != nil {
		return fmt.Errorf("set parameter %q: %w", name, err)
	}
	return nil
}

// SetIntermediateValue implements tune.Storage.
func (s *Store) SetIntermediateValue(ctx context.Context, trialID int64, step int, value float64) error {
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		if err := s.running(ctx, tx, trialID); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO trial_values (trial_id, step, value) VALUES (?, ?, ?)
			ON CONFLICT(trial_id, step) DO UPDATE SET value = excluded.value`, trialID, step, nullable(value))
		return err
	})
	if err != nil {
		return fmt.Errorf("set intermediate value at step %d: %w", step, err)
	}
	return nil
}

// FinishTrial implements tune.Storage.
func (s *Store) FinishTrial(ctx context.Context, trialID int64, st tune.State, value float64, reason string) error {
	if !st.Finished() {
		return fmt.Errorf("finish trial in state %s: %w", st, tune.ErrStateConflict)
	}
	if err := s.setState(ctx, trialID, tune.Running, `state = ?, value = ?, error = ?, finished = ?`,
		string(st), nullable(value), reason, time.Now().UnixNano()); err != nil {
		return fmt.Errorf("finish trial: %w", err)
	}
	return nil
}

// Trials implements tune.Storage.
func (s *Store) Trials(ctx context.Context, studyID int64) ([]tune.FrozenTrial, error) {
	var out []tune.FrozenTrial
	err := s.Snapshot(ctx, func(v store.View) (err error) {
		out, err = v.Trials(ctx, studyID)
		return err
	})
	return out, err
}

// trials reads a study's trials with their parameters and intermediate
// values; the three queries must share one transaction to read one state.
func trials(ctx context.Context, tx querier, studyID int64) ([]tune.FrozenTrial, error) {
	out, index, err := trialRows(ctx, tx, studyID)
	if err == nil {
		err = addTrialParams(ctx, tx, studyID, out, index)
	}
	if err == nil {
		err = addTrialValues(ctx, tx, studyID, out, index)
	}
	if err != nil {
		return nil, err
	}
	return out, nil
}

// trialRows reads a study's trials in number order, with empty parameter
// and value maps, and indexes them by trial id.
func trialRows(ctx context.Context, tx querier, studyID int64) ([]tune.FrozenTrial, map[int64]int, error) {
	var out []tune.FrozenTrial
	index := map[int64]int{}
	err := queryRows(ctx, tx, `SELECT id, number, state, value, retry_of, error, started, finished
		FROM trials WHERE study_id = ? ORDER BY number`, studyID, func(rows *sql.Rows) error {
		var (
			t                 tune.FrozenTrial
			state             string
			value             sql.NullFloat64
			started, finished int64
		)
		if err := rows.Scan(&t.ID, &t.Number, &state, &value, &t.RetryOf, &t.Error, &started, &finished); err != nil {
			return err
		}
		t.State, t.Value = tune.State(state), fromNullable(value)
		t.Start, t.Finish = fromUnix(started), fromUnix(finished)
		t.Params, t.Distributions, t.Intermediate = map[string]float64{}, map[string]tune.Distribution{}, map[int]float64{}
		index[t.ID] = len(out)
		out = append(out, t)
		return nil
	})
	return out, index, err
}

// addTrialParams fills in the parameters of a study's trials.
func addTrialParams(ctx context.Context, tx querier, studyID int64, out []tune.FrozenTrial, index map[int64]int) error {
	return queryRows(ctx, tx, `SELECT p.trial_id, p.name, p.value, p.distribution FROM trial_params p
		JOIN trials t ON t.id = p.trial_id WHERE t.study_id = ?`, studyID, func(rows *sql.Rows) error {
		var (
			id         int64
			name, dist string
			v          float64
			d          tune.Distribution
		)
		if err := rows.Scan(&id, &name, &v, &dist); err != nil {
			return err
		}
		if err := json.Unmarshal([]byte(dist), &d); err != nil {
			return fmt.Errorf("parameter %q of trial id %d: %w", name, id, err)
		}
		if i, ok := index[id]; ok {
			out[i].Params[name], out[i].Distributions[name] = v, d
		}
		return nil
	})
}

// addTrialValues fills in the intermediate values of a study's trials.
func addTrialValues(ctx context.Context, tx querier, studyID int64, out []tune.FrozenTrial, index map[int64]int) error {
	return queryRows(ctx, tx, `SELECT v.trial_id, v.step, v.value FROM trial_values v
		JOIN trials t ON t.id = v.trial_id WHERE t.study_id = ?`, studyID, func(rows *sql.Rows) error {
		var (
			id   int64
			step int
			v    sql.NullFloat64
		)
		if err := rows.Scan(&id, &step, &v); err != nil {
			return err
		}
		if i, ok := index[id]; ok {
			out[i].Intermediate[step] = fromNullable(v)
		}
		return nil
	})
}

// queryRows runs a query with one argument and calls each on every row.
func queryRows(ctx context.Context, tx querier, query string, arg any, each func(*sql.Rows) error) error {
	rows, err := tx.QueryContext(ctx, query, arg)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := each(rows); err != nil {
			return err
		}
	}
	return rows.Err()
}

// inTx runs f in a transaction, committing if it returns nil.
func (s *Store) inTx(ctx context.Context, f func(*sql.Tx) error) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := f(tx); err != nil {
		tx.Rollback()
		return err
	}
	return tx.Commit()
}
