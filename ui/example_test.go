package ui_test

import (
	"context"
	"fmt"
	"log"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"

	"github.com/tabforge/tabforge/store/sqlite"
	"github.com/tabforge/tabforge/ui"
)

// The dashboard is an http.Handler over a store; tabforge ui serves it
// on loopback with Server.Serve.
func ExampleNew() {
	dir, err := os.MkdirTemp("", "tabforge-ui")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	st, err := sqlite.Open(context.Background(), filepath.Join(dir, "tf.db"))
	if err != nil {
		log.Fatal(err)
	}
	defer st.Close()
	srv, err := ui.New(st, ui.Options{}) // read-only: no admin token
	if err != nil {
		log.Fatal(err)
	}
	rec := httptest.NewRecorder()
	srv.ServeHTTP(rec, httptest.NewRequest("GET", "/?status=failed", nil))
	fmt.Println(rec.Code, strings.Contains(rec.Body.String(), "No runs match."))
	// Output: 200 true
}
