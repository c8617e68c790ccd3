package resolvers

import (
	_ "embed"
	"net/http"
	"sync"

	"github.com/taskapi/taskapi/internal/assets"
)

//go:generate go test -count=1 -run ^TestPlaygroundPageIsGqlgens$ . -args -update

// PlaygroundEndpoint is the endpoint the playground page queries.
const PlaygroundEndpoint = "/graphql"

// playgroundPage is GraphiQL's page for PlaygroundEndpoint as gqlgen's
// playground package writes it, loading GraphiQL and React from
// internal/assets (which assets.Handler serves at assets.Prefix, so the page
// works offline), each with its integrity hash, with one change: GraphiQL
// does not keep the request headers (the Authorization header, a bearer
// token) in localStorage, where any script of the origin, and anyone at
// the browser later, could read them (playgroundEdits).
//
// It is rendered when the assets or gqlgen change (go generate ./resolvers),
// not by the server: gqlgen's package renders it with html/template, whose
// use of reflection (MethodByName) keeps the linker from dropping any
// exported method the program never calls; linking it made the server
// binary half as big again (30 MB instead of 20). TestPlaygroundPageIsGqlgens
// fails when this file is not what the package renders now.
//
//go:embed playground.html
var playgroundPage []byte

// playgroundEdits are the changes made to gqlgen's page: GraphiQL keeps no
// headers in its tabs, and none in its query history either, which stores
// them whatever shouldPersistHeaders says (GraphiQL 4.1's HistoryStore):
// every value the page writes to localStorage has its "headers" emptied.
var playgroundEdits = [][2]string{
	{"shouldPersistHeaders: true,", "shouldPersistHeaders: false,"},
	{"localStorage.setItem(prefixedKey, value);", `localStorage.setItem(prefixedKey, String(value).replace(/"headers":"(?:[^"\\]|\\.)*"/g, '"headers":""'));`},
}

// playgroundCSP allows the page's own inline script and style by hash.
var playgroundCSP = sync.OnceValue(func() string { return assets.PageCSP(playgroundPage) })

// Playground returns the GraphiQL page that queries PlaygroundEndpoint,
// with its Content-Security-Policy (assets.PageCSP).
func Playground() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		h := w.Header()
		h.Set("Content-Type", "text/html; charset=UTF-8")
		h.Set("Content-Security-Policy", playgroundCSP())
		_, _ = w.Write(playgroundPage)
	})
}
