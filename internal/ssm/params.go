// Package ssm reads the secrets named by JWT_SECRET_PARAM and
// PASS_SECRET_KEY_PARAM from SSM Parameter Store at start, in every mode
// (taskapi serve and the Lambda image alike), with one signed HTTPS call
// (Client) instead of the SDK's SSM client.
package ssm

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
)

// GetParametersAPI is the one SSM call LoadParams makes: GetParameters
// with WithDecryption set, for at most ten names; names SSM does not know
// are absent from the result. *Client satisfies it.
type GetParametersAPI interface {
	GetParameters(ctx context.Context, names []string) ([]Parameter, error)
}

// Parameter is one parameter in SSM's GetParameters answer. Name is the
// parameter's name without a selector; Selector is the ":version" or
// ":label" the caller asked for, if any.
type Parameter struct {
	Name     string
	Value    string
	Selector string
}

// ErrMissingParameter is wrapped by LoadParams when a named parameter does
// not exist (or the caller may not read it).
var ErrMissingParameter = errors.New("SSM parameter not found")

// ssmBatch is the most names one GetParameters call accepts.
const ssmBatch = 10

// LoadParams reads SSM parameters (SecureString ones decrypted) at cold
// start. names maps a key of the caller's choosing (e.g. "JWT_SECRET") to a
// parameter name (e.g. "/taskapi/prod/jwt-secret", optionally with a
// ":version" selector); the result maps the same keys to the values. Every
// name must exist and hold a non-empty value, or the error names the keys
// and parameters that failed — never a value.
func LoadParams(ctx context.Context, client GetParametersAPI, names map[string]string) (map[string]string, error) {
	unique := make([]string, 0, len(names))
	for key, name := range names {
		if strings.TrimSpace(name) == "" {
			return nil, fmt.Errorf("SSM parameter name for %s is empty", key)
		}
		if !slices.Contains(unique, name) {
			unique = append(unique, name)
		}
	}
	sort.Strings(unique)

	values := make(map[string]string, len(unique)) // by parameter name
	for batch := range slices.Chunk(unique, ssmBatch) {
		params, err := client.GetParameters(ctx, batch)
		if err != nil {
			return nil, fmt.Errorf("reading SSM parameters %s: %w", strings.Join(batch, ", "), err)
		}
		for _, p := range params {
			// "name:3" comes back as Name "name", Selector ":3"; only the
			// answer without a selector is the current value of "name".
			values[p.Name+p.Selector] = p.Value
		}
	}

	result := make(map[string]string, len(names))
	var missing, empty []string
	for key, name := range names {
		v, ok := values[name]
		switch {
		case !ok:
			missing = append(missing, fmt.Sprintf("%s (%s)", key, name))
		case v == "":
			empty = append(empty, fmt.Sprintf("%s (%s)", key, name))
		default:
			result[key] = v
		}
	}
	sort.Strings(missing)
	sort.Strings(empty)
	switch {
	case len(missing) > 0:
		return nil, fmt.Errorf("%w: %s", ErrMissingParameter, strings.Join(missing, ", "))
	case len(empty) > 0:
		return nil, fmt.Errorf("SSM parameters are empty: %s", strings.Join(empty, ", "))
	}
	return result, nil
}
