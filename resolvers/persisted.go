package resolvers

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/errcode"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// maxPersistedQueryBytes: a larger query is not persisted; its clients
// send it in full (the Redis store has the same bound).
const maxPersistedQueryBytes = 8 << 10

// persistedQueries is Automatic Persisted Queries as Apollo's clients speak
// it (the persistedQuery extension, version 1; the same answers as gqlgen's
// extension.AutomaticPersistedQuery), with one difference that matters:
// gqlgen stores a query as soon as its hash matches, before it is even
// parsed, so anyone could write 64 KB per hash into Redis. Here
// persistedQueries only resolves a hash to its query and remembers a new
// one; persistCommit stores it once the operation has parsed, passed the
// gate and the complexity limit, and validated, if it is at most
// maxPersistedQueryBytes and carries no credential (see credentials).
type persistedQueries struct{ cache graphql.Cache[string] }

// persistCommit stores the query persistedQueries remembered.
type persistCommit struct{ cache graphql.Cache[string] }

var (
	_ interface {
		graphql.HandlerExtension
		graphql.OperationParameterMutator
	} = persistedQueries{}
	_ interface {
		graphql.HandlerExtension
		graphql.OperationContextMutator
	} = persistCommit{}
)

func (persistedQueries) ExtensionName() string                   { return "PersistedQueries" }
func (persistedQueries) Validate(graphql.ExecutableSchema) error { return nil }
func (persistCommit) ExtensionName() string                      { return "PersistedQueriesCommit" }
func (persistCommit) Validate(graphql.ExecutableSchema) error    { return nil }

// newPersisted is the extension statistics key of a query to persist.
const newPersisted = "taskapi.newPersistedQuery"

func (p persistedQueries) MutateOperationParameters(ctx context.Context, raw *graphql.RawParams) *gqlerror.Error {
	ext, ok := raw.Extensions["persistedQuery"]
	if !ok || ext == nil {
		return nil
	}
	m, ok := ext.(map[string]any)
	hash, okHash := m["sha256Hash"].(string)
	if !ok || !okHash {
		return gqlerror.Errorf("invalid APQ extension data")
	}
	if !versionOne(m["version"]) {
		return gqlerror.Errorf("unsupported APQ version")
	}
	stats := &graphql.GetOperationContext(ctx).Stats
	if raw.Query == "" {
		q, ok := p.cache.Get(ctx, hash)
		if !ok {
			err := gqlerror.Errorf("PersistedQueryNotFound")
			errcode.Set(err, "PERSISTED_QUERY_NOT_FOUND")
			return err
		}
		raw.Query = q
		stats.SetExtension("APQ", &extension.ApqStats{Hash: hash})
		return nil
	}
	sum := sha256.Sum256([]byte(raw.Query))
	if hex.EncodeToString(sum[:]) != hash {
		return gqlerror.Errorf("provided APQ hash does not match query")
	}
	stats.SetExtension("APQ", &extension.ApqStats{Hash: hash, SentQuery: true})
	stats.SetExtension(newPersisted, hash)
	return nil
}

func versionOne(v any) bool {
	switch v := v.(type) {
	case json.Number:
		return v.String() == "1"
	case float64:
		return v == 1
	case int:
		return v == 1
	}
	return false
}

func (c persistCommit) MutateOperationContext(ctx context.Context, opCtx *graphql.OperationContext) *gqlerror.Error {
	hash, ok := opCtx.Stats.GetExtension(newPersisted).(string)
	if !ok || len(opCtx.RawQuery) > maxPersistedQueryBytes || credentials(opCtx.Doc) {
		return nil
	}
	c.cache.Add(ctx, hash, opCtx.RawQuery)
	return nil
}

// credentials reports whether doc holds a literal value for an argument or
// input field whose name says it is a secret (password, token, secret: as
// login's and register's password, updateUser's input.password, and any
// later newPassword or refreshToken). Such a document is executed but never
// persisted: persisted queries live in Redis for a day, shared by every
// instance, and must not hold credentials. Clients that pass credentials in
// variables, as they should, have their queries persisted as usual.
func credentials(doc *ast.QueryDocument) bool {
	var value func(name string, v *ast.Value) bool
	value = func(name string, v *ast.Value) bool {
		if v == nil || v.Kind == ast.Variable {
			return false
		}
		if secretName(name) && v.Kind != ast.NullValue {
			return true
		}
		for _, c := range v.Children {
			n := c.Name
			if v.Kind == ast.ListValue {
				n = name // a list of secrets is secrets
			}
			if value(n, c.Value) {
				return true
			}
		}
		return false
	}
	args := func(list ast.ArgumentList) bool {
		for _, a := range list {
			if value(a.Name, a.Value) {
				return true
			}
		}
		return false
	}
	dirs := func(list ast.DirectiveList) bool {
		for _, d := range list {
			if args(d.Arguments) {
				return true
			}
		}
		return false
	}
	var set func(ast.SelectionSet) bool
	set = func(s ast.SelectionSet) bool {
		for _, sel := range s {
			switch sel := sel.(type) {
			case *ast.Field:
				if args(sel.Arguments) || dirs(sel.Directives) || set(sel.SelectionSet) {
					return true
				}
			case *ast.InlineFragment:
				if dirs(sel.Directives) || set(sel.SelectionSet) {
					return true
				}
			case *ast.FragmentSpread:
				if dirs(sel.Directives) {
					return true
				}
			}
		}
		return false
	}
	for _, op := range doc.Operations {
		for _, v := range op.VariableDefinitions {
			if value(v.Variable, v.DefaultValue) {
				return true
			}
		}
		if dirs(op.Directives) || set(op.SelectionSet) {
			return true
		}
	}
	for _, f := range doc.Fragments {
		if dirs(f.Directives) || set(f.SelectionSet) {
			return true
		}
	}
	return false
}

func secretName(name string) bool {
	n := strings.ToLower(name)
	return strings.Contains(n, "password") || strings.Contains(n, "token") || strings.Contains(n, "secret")
}
