package frame_test

import (
	"fmt"
	"os"
	"strings"

	"github.com/tabforge/tabforge/frame"
)

func ExampleReadCSV() {
	const data = `city,area_code,median,date
"Austin, TX",512,71400,2000-01-01
Dallas,214,NA,2000-02-01
Austin,512,58700,2000-03-01
`
	f, err := frame.ReadCSV(strings.NewReader(data), frame.ReadOptions{
		Schema: map[string]frame.Kind{"area_code": frame.Categorical},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, s := range f.Describe() {
		fmt.Printf("%s: %s, %d missing\n", s.Name, s.Kind, s.Missing)
	}
	city, _ := f.Lookup("city")
	fmt.Println(city.Levels)
	if err := frame.WriteCSV(os.Stdout, f.Take([]int{1})); err != nil {
		fmt.Println(err)
	}
	// Output:
	// city: categorical, 0 missing
	// area_code: categorical, 0 missing
	// median: numeric, 1 missing
	// date: datetime, 0 missing
	// [Austin Austin, TX Dallas]
	// city,area_code,median,date
	// Dallas,214,,2000-02-01
}

func ExampleFrame_Hash() {
	a, _ := frame.ReadCSV(strings.NewReader("x,y\n1,a\n2,b\n"), frame.ReadOptions{})
	b, _ := frame.ReadCSV(strings.NewReader("x,y\n1.0,\"a\"\n2e0,b\n"), frame.ReadOptions{})
	c, _ := frame.ReadCSV(strings.NewReader("x,y\n1,a\n2,c\n"), frame.ReadOptions{})
	fmt.Println(a.Hash() == b.Hash(), a.Hash() == c.Hash())
	// Output: true false
}

func ExampleReadCSV_error() {
	_, err := frame.ReadCSV(strings.NewReader("x\n1\n-Inf\n"), frame.ReadOptions{})
	fmt.Println(err)
	// Output: frame: read csv: row 2 (line 3) column "x": infinite value "-Inf"
}

// ReadRows reads cells that are already split, such as the rows of a
// JSON request, as ReadCSV would read them from a file.
func ExampleReadRows() {
	f, err := frame.ReadRows([]string{"city", "median"},
		[][]string{{"Austin", "71400"}, {"Dallas", "NA"}}, frame.ReadOptions{})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, c := range f.Columns() {
		fmt.Println(c.Name, c.Kind, c.Len())
	}
	// Output:
	// city categorical 2
	// median numeric 2
}
