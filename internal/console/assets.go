package console

import (
	"embed"
	"io/fs"
	"net/http"
	"strings"
)

// web holds the app: plain ES modules and hand-written CSS, no build step,
// so `go build` embeds exactly what is in the repository.
//
//go:embed web
var web embed.FS

// assetHandler serves the embedded app under Prefix. Directory paths
// other than the root are not listed.
func assetHandler() http.Handler {
	sub, err := fs.Sub(web, "web")
	if err != nil {
		panic("BUG: console assets: " + err.Error())
	}
	files := http.StripPrefix(strings.TrimSuffix(Prefix, "/"), http.FileServerFS(sub))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		if r.URL.Path != Prefix && strings.HasSuffix(r.URL.Path, "/") {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Cache-Control", "no-cache")
		files.ServeHTTP(w, r)
	})
}
