package frame

// ReadOptions controls how files are read and how column kinds are chosen.
// The zero value reads comma-separated text with the default missing
// tokens and infers every column's kind.
type ReadOptions struct {
	// Missing lists the text values read as missing. nil means
	// DefaultMissing(); a non-nil empty slice means no value is missing
	// (so an empty field is the categorical level "" or a parse error in a
	// numeric column). Parquet files mark missing values themselves and
	// use Missing only for strings that Schema converts to another kind.
	Missing []string
	// ColumnMissing lists, by column name, more texts read as missing in
	// that column only, besides Missing's (pandas' na_values given as a
	// dict, its default values kept): {"BloodPressure": {"0"}} reads a
	// zero blood pressure as missing while a 0 in any other column stays
	// a number. A name the table does not have is ignored, so that the
	// options that read a training file also read new rows without its
	// target. In a Parquet file a named column must hold strings (read
	// as Categorical), whose labels these texts mark missing whether or
	// not Schema converts the column; a named column of numbers or times
	// is an error, since its values have no text to compare.
	ColumnMissing map[string][]string

	// Schema forces the kind of the named columns instead of inferring it,
	// e.g. {"area_code": Categorical}. A name that is not in the file is an
	// error, and so is a value that does not parse as the forced kind.
	// Forcing Categorical keeps each value's text as its label.
	Schema map[string]Kind
	// SchemaOptional skips the Schema names that are not in the file
	// instead of failing, for a caller that checks missing columns itself
	// and wants to report them all at once (see pipeline.ReadInput).
	SchemaOptional bool

	// Comma is the CSV field delimiter; 0 means detect it from the first
	// lines: ',', ';', tab or '|' (see DetectComma).
	Comma rune

	// MemoryLimit bounds, in bytes, the memory a whole-table read
	// (ReadFile, ReadParquet, ReadCSV, ReadCSVBytes) may decode the
	// table into: a table estimated larger is refused with an error
	// wrapping ErrMemoryLimit, a Parquet one before its values are
	// decoded (its metadata says how many rows it holds), a CSV one once
	// the rows read pass the limit (a gzip-compressed file can be a
	// thousand times smaller than its text). Block readers
	// (OpenParquetBlocks, CSVBlocks) hold a block at a time and are
	// never refused for a table's size; OpenParquetBlocks refuses only a
	// single page that passes the limit. 0 means DefaultMemoryLimit();
	// NoMemoryLimit (or any negative value) means none.
	MemoryLimit int64

	// LegacyDatetimes infers datetime columns from CSV text as tabforge
	// did before it read timestamps without seconds (2019-01-01 13:45)
	// and year-first slash dates (2019/01/31): a column holding them is
	// Categorical. It exists to read a file as a run recorded it, whose
	// content hash (Frame.Hash) and models' schemas were taken from that
	// reading (see pipeline.ReadRecorded); new data is never read so.
	// A column Schema forces Datetime accepts every form either way.
	LegacyDatetimes bool
}
