package web_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"

	"github.com/cuttleprint/cuttle/pkg/web"
)

// The handler answers a client route such as /settings with the app's page.
func Example() {
	h, err := web.New()
	if err != nil {
		fmt.Println(err)
		return
	}
	mux := http.NewServeMux()
	mux.Handle("/", h) // the API router mounts it for everything not under /api
	w := httptest.NewRecorder()
	mux.ServeHTTP(w, httptest.NewRequest("GET", "/settings", nil))
	fmt.Println(w.Code, w.Header().Get("Content-Type"))
	// Output: 200 text/html; charset=utf-8
}
