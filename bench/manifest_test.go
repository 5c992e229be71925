package bench

import (
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestSplitArgs(t *testing.T) {
	for _, tc := range []struct {
		in      string
		want    []string
		wantErr string
	}{
		{in: "", want: nil},
		{in: "   ", want: nil},
		{in: "--models gbdt", want: []string{"--models", "gbdt"}},
		{in: `--set "model_params={gbdt: {learning_rate: 0.05}}"`, want: []string{"--set", "model_params={gbdt: {learning_rate: 0.05}}"}},
		{in: `--set 'a=b c' x`, want: []string{"--set", "a=b c", "x"}},
		{in: `a\ b "q\"uote" 'it'\''s'`, want: []string{"a b", `q"uote`, "it's"}},
		{in: `""`, want: []string{""}},
		{in: `"open`, wantErr: "unclosed"},
		{in: `tail\`, wantErr: "backslash"},
	} {
		got, err := SplitArgs(tc.in)
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("SplitArgs(%q) error %v; want one containing %q", tc.in, err, tc.wantErr)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("SplitArgs(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
}

// TestParseVariant: a variant parses from NAME=FLAGS and its String form
// parses back to the same variant.
func TestParseVariant(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Variant
		err  bool
	}{
		{in: "base=", want: Variant{Name: "base", Flags: nil}},
		{in: `lr=--set "model_params={gbdt: {learning_rate: 0.05}}"`, want: Variant{Name: "lr", Flags: []string{"--set", "model_params={gbdt: {learning_rate: 0.05}}"}}},
		{in: "prod=--profile production", want: Variant{Name: "prod", Flags: []string{"--profile", "production"}}},
		{in: "noequals", err: true},
		{in: "=--models gbdt", err: true},
		{in: `bad=--set "x`, err: true},
	} {
		got, err := ParseVariant(tc.in)
		if tc.err {
			if err == nil {
				t.Errorf("ParseVariant(%q) = %+v; want an error", tc.in, got)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("ParseVariant(%q) = %+v, %v; want %+v", tc.in, got, err, tc.want)
		}
		back, err := ParseVariant(got.String())
		if err != nil || !reflect.DeepEqual(back, got) {
			t.Errorf("ParseVariant(%q.String() = %q) = %+v, %v; want %+v", tc.in, got.String(), back, err, got)
		}
	}
}

func TestParseManifest(t *testing.T) {
	dir := filepath.Join("some", "dir")
	for _, tc := range []struct {
		name, in string
		want     []Dataset
		wantErr  string
	}{
		{name: "quality columns", in: "file,target,task,time_column,test_rows\n" +
			"a.csv,y,regression,date,a.rows.txt\n/abs/b.csv,label,binary,,\n",
			want: []Dataset{
				{Name: "a", File: filepath.Join(dir, "a.csv"), Target: "y", Task: "regression", TimeColumn: "date", TestRows: filepath.Join(dir, "a.rows.txt")},
				{Name: "b", File: "/abs/b.csv", Target: "label", Task: "binary"},
			}},
		{name: "meta corpus columns, any order, extra ignored", in: "rows,file,license,target,task,positive_class,notes\n" +
			`150,x.csv,CC0,cls,binary,yes,"a note, with a comma"` + "\n",
			want: []Dataset{{Name: "x", File: filepath.Join(dir, "x.csv"), Target: "cls", Task: "binary", PositiveClass: "yes", Rows: 150}}},
		{name: "only file and target", in: "file,target\nz.csv,t\n",
			want: []Dataset{{Name: "z", File: filepath.Join(dir, "z.csv"), Target: "t"}}},
		{name: "header only", in: "file,target\n", want: nil},
		{name: "no target column", in: "file,task\na.csv,binary\n", wantErr: `no "target" column`},
		{name: "empty target", in: "file,target\na.csv,\n", wantErr: "line 2: file and target are required"},
		{name: "bad task", in: "file,target,task\na.csv,y,ranking\n", wantErr: `line 2: task "ranking"`},
		{name: "bad rows", in: "file,target,rows\na.csv,y,many\n", wantErr: `line 2: rows "many"`},
		{name: "empty", in: "", wantErr: "header"},
	} {
		got, err := parseManifest(strings.NewReader(tc.in), dir)
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("%s: error %v; want one containing %q", tc.name, err, tc.wantErr)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s: got %+v, %v; want %+v", tc.name, got, err, tc.want)
		}
	}
}

func TestDatasetTrainArgs(t *testing.T) {
	d := Dataset{File: "f.csv", Target: "y", Task: "binary", PositiveClass: "yes", TimeColumn: "d"}
	want := []string{"--data", "f.csv", "--target", "y", "--task", "binary", "--time-column", "d", "--positive-class", "yes"}
	if got := d.TrainArgs(); !reflect.DeepEqual(got, want) {
		t.Errorf("TrainArgs() = %q; want %q", got, want)
	}
}

// TestReadManifestCorpus reads the bundled two-dataset excerpt of the meta
// corpus's MANIFEST.csv, whose files must exist beside it.
func TestReadManifestCorpus(t *testing.T) {
	ds, err := ReadManifest(filepath.Join("..", "testdata", "corpus", "MANIFEST.csv"))
	if err != nil {
		t.Fatal(err)
	}
	if len(ds) != 2 {
		t.Fatalf("%d datasets; want 2", len(ds))
	}
	for _, d := range ds {
		if _, _, err := Subsample(d.File, filepath.Join(t.TempDir(), "x.csv"), d.Rows, 1); err != nil {
			t.Errorf("%s: %v", d.Name, err)
		}
	}
}
