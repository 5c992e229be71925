// Package config holds tabforge's training configuration: one flat struct,
// Config, with every switch of the pipeline, the built-in profiles
// (development, production, research), loading in layers, validation, and
// the canonical encodings used by `tabforge config show`, run records and
// cache keys.
//
// # Keys
//
// Every field of Config has one flat snake_case key, the same in YAML,
// JSON, `--set KEY=VALUE` and the environment (TABFORGE_<KEY> in upper
// case, so TABFORGE_MIN_R2_THRESHOLD sets min_r2_threshold). There is no
// nesting: Keys lists them all in declaration order.
//
// # Layers
//
// Load builds a Config from, lowest precedence first:
//
//	default < profile < YAML file < environment < flags (--set and dedicated CLI flags)
//
// A key set by a higher layer replaces the lower value as a whole; lists
// and maps are not merged. Provenance records which layer set each key, so
// that Unavailable can tell a stage switched on explicitly by the user (an
// error while that stage is not implemented) from one switched on by a
// profile or a default (a warning; the run takes the basic path).
//
// # Values written as strings
//
// The environment, --set and CLI flags give values as text:
//
//	bool          true, false, 1, 0 (strconv.ParseBool)
//	int, uint     decimal integers
//	float         decimal or exponent notation; Validate requires it finite
//	duration      Go durations: 90s, 30m, 2h (empty or 0 means none)
//	size          bytes, or KB, MB, GB, TB (1000s), KiB, MiB, GiB, TiB (1024s): 8GiB, 1.5GB; auto; 0
//	list          comma separated (a,b,c) or a YAML flow sequence ([a, "b,c"])
//	schema        col:kind,col:kind or a YAML flow mapping ({date: datetime})
//	missing_values  a list, or a YAML flow mapping of columns ("*" for all) to lists: {"*": [NA], Income: ["0"]}
//	model_params  a YAML flow mapping: {gbdt: {max_depth: 6, learning_rate: 0.1}}
//
// An empty value clears a string, list or map key and is an error for any
// other key.
//
// # Environment
//
// Only variables starting with TABFORGE_ are read. Each must name a key,
// except these, which are allowed and not keys:
//
//	TABFORGE_PROFILE   the profile, when Sources.Profile is empty
//	TABFORGE_CONFIG    the YAML file, when Sources.File is empty
//	TABFORGE_DEBUG     the CLI prints the stack of an internal error
//	TABFORGE_ADMIN_TOKEN  the serving and dashboard admin token
//	TABFORGE_TEST_*    reserved for test harnesses; ignored
//
// Any other TABFORGE_ variable that names no key is an error, with the
// closest key suggested.
package config
