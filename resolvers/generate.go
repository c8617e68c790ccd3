package resolvers

// graph/ is gqlgen's output for schema.graphqls and gqlgen.yml (run from
// the module root, where gqlgen.yml is). It is listed here, in the package
// built on it, so that `go generate ./...` refreshes every generated
// artifact; this file sorts before playground.go, whose directive compiles
// this package against the fresh graph/.
//go:generate go -C .. tool gqlgen generate
