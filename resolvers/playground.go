package resolvers

import (
	_ "embed"
	"net/http"
)

//go:generate go test -count=1 -run ^TestPlaygroundPageIsGqlgens$ . -args -update

// PlaygroundEndpoint is the endpoint the playground page queries.
const PlaygroundEndpoint = "/graphql"

// playgroundPage is GraphiQL's page for PlaygroundEndpoint exactly as gqlgen's
// playground package writes it, loading GraphiQL and React from
// internal/assets (which assets.Handler serves at assets.Prefix, so the page
// works offline), each with its integrity hash.
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

// Playground returns the GraphiQL page that queries PlaygroundEndpoint.
func Playground() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=UTF-8")
		_, _ = w.Write(playgroundPage)
	})
}
