// Package dist runs the pipeline's units of work (pipeline.Unit: CV
// folds of candidates and tuning trials, ensemble fits, meta build
// datasets, backtest periods) on tabforge worker processes
// through NATS JetStream, so that a study outgrows one machine without a
// home-made queue.
//
// The driver's Executor publishes each unit to a work-queue stream with
// the unit's key as its Nats-Msg-Id, so a unit published twice within the
// stream's duplicate window is queued once. A unit goes only to workers
// of the driver's build (see BuildsStream): they pull it from a durable
// consumer of their build with explicit acks and a short AckWait that
// in-progress acks extend while a unit runs: a worker killed with SIGKILL
// stops extending it, and the server redelivers the unit to another
// worker (at most MaxDeliver times). A worker writes the unit's result to
// a key-value bucket under a key derived from the unit's deterministic
// key, with a create-only write, and skips a unit whose result is already
// there: a redelivered or duplicated unit never yields a second result.
//
// Units travel by reference (pipeline.UnitRunner rebuilds them from the
// run record in the shared store), so driver and workers share the store
// (SQLite on one machine, Redis across machines). What only the driver
// holds (the candidates' predictions an ensemble unit combines) goes to
// an object store under its content hash (Executor.ShareArtifact) for
// workers to fetch (Worker.Artifact). Workers announce
// themselves and their build in a second bucket with a short TTL; a
// driver that sees none of its build says so within seconds instead of
// waiting forever. A driver that stops waiting (no worker of its build
// left, another unit failed, cancelled) removes its pending units from
// the builds stream, since only workers of its build would ever take
// them; a driver waiting on a unit whose message left the stream without
// a result (another driver of the build shared and removed it, or an
// operator purged the stream) queues it again.
package dist
