//go:build openapi

package rest

import (
	"github.com/danielgtaylor/huma/v2"

	"github.com/taskapi/taskapi/core"
)

// What the payload types (models.go) say about themselves in the OpenAPI
// document beyond their field tags: limits taken from core, and the schemas
// of the types huma cannot derive. Built only with -tags openapi, by the
// generator (see openapi_gen.go); the server does not link huma.

func (registerRequest) TransformSchema(_ huma.Registry, s *huma.Schema) *huma.Schema {
	return accountLimits(s)
}

// accountLimits are core's rules for the fields of an account, which
// registration and an admin's update share.
func accountLimits(s *huma.Schema) *huma.Schema {
	limit(s, "username", 1, core.MaxUsernameLen)
	limit(s, "email", 0, core.MaxEmailLen)
	limit(s, "password", core.MinPasswordLen, core.MaxPasswordLen)
	s.Properties["password"].Description = "Password: " + core.PasswordPolicy + "."
	return s
}

// loginForm is the OAuth2 password grant (RFC 6749 §4.3.2) as FastAPI's
// OAuth2PasswordRequestForm reads it: username carries the email. Login
// accepts it as well as the JSON body (bindLoginForm), so Swagger UI's
// Authorize button works; this type only documents it.
type loginForm struct {
	GrantType    string `json:"grant_type,omitempty" pattern:"^password$"`
	Username     string `json:"username" doc:"The email."`
	Password     string `json:"password"`
	Scope        string `json:"scope,omitempty" default:""`
	ClientID     string `json:"client_id,omitempty"`
	ClientSecret string `json:"client_secret,omitempty"`
}

func (createTaskRequest) TransformSchema(_ huma.Registry, s *huma.Schema) *huma.Schema {
	limit(s, "title", 1, core.MaxTitleLen)
	limit(s, "description", 0, core.MaxDescriptionLen)
	return s
}

func (updateUserRequest) TransformSchema(_ huma.Registry, s *huma.Schema) *huma.Schema {
	return accountLimits(s)
}

func limit(s *huma.Schema, prop string, minLen, maxLen int) {
	p := s.Properties[prop]
	if minLen > 0 {
		p.MinLength = &minLen
	}
	p.MaxLength = &maxLen
}

func (timestamp) Schema(huma.Registry) *huma.Schema {
	return &huma.Schema{Type: huma.TypeString, Format: "date-time", Description: "RFC 3339, UTC, milliseconds.", Examples: []any{"2025-01-31T09:30:00.000Z"}}
}

func (validationError) TransformSchema(_ huma.Registry, s *huma.Schema) *huma.Schema {
	s.Properties["loc"].Items = &huma.Schema{AnyOf: []*huma.Schema{{Type: huma.TypeString}, {Type: huma.TypeInteger}}}
	s.Properties["loc"].Nullable = false
	s.Required = []string{"type", "loc", "msg", "input"}
	return s
}

func (httpValidationError) TransformSchema(_ huma.Registry, s *huma.Schema) *huma.Schema {
	s.Properties["detail"].Nullable = false
	return s
}
