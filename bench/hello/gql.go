//go:build hello_gql || hello_deps

package main

// taskapi's gqlgen-generated executor, whose package initialization parses
// and validates the schema: with -tags hello_gql, hello measures what that
// alone adds to a cold start.
import _ "github.com/taskapi/taskapi/graph"
