// Package scalars holds the marshalers of taskapi's custom GraphQL scalar
// (DateTime) and of its enums, which map to core's constants.
// It is its own package because the generated graph package imports it, and
// graph must not import resolvers (which imports graph).
package scalars

import (
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/errcode"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/taskapi/taskapi/core"
)

// DateTimeLayout is how a DateTime is written: RFC 3339 in UTC with exactly
// three fractional digits, so strings sort as times do.
const DateTimeLayout = "2006-01-02T15:04:05.000Z07:00"

// MarshalDateTime writes t as an RFC 3339 UTC string with milliseconds.
func MarshalDateTime(t time.Time) graphql.Marshaler {
	return graphql.WriterFunc(func(w io.Writer) {
		_, _ = io.WriteString(w, strconv.Quote(t.UTC().Format(DateTimeLayout)))
	})
}

// UnmarshalDateTime reads any RFC 3339 string.
func UnmarshalDateTime(v any) (time.Time, error) {
	s, ok := v.(string)
	t, err := time.Parse(time.RFC3339Nano, s)
	if !ok || err != nil {
		// A client error, as gqlparser's for a wrong literal: BAD_USER_INPUT.
		err := gqlerror.Errorf("DateTime must be an RFC 3339 string such as 2025-01-31T09:30:00Z")
		errcode.Set(err, errcode.ValidationFailed)
		return time.Time{}, err
	}
	return t.UTC(), nil
}

// enum maps a GraphQL enum's names to core's constants, both ways, exactly.
type enum[T ~string] struct {
	name  string
	toGo  map[string]T
	toGQL map[T]string
	names string // for messages: "A, B or C"
}

// name pairs a GraphQL enum name with its core constant.
type name[T ~string] struct {
	gql string
	val T
}

func newEnum[T ~string](typeName string, pairs ...name[T]) enum[T] {
	e := enum[T]{name: typeName, toGo: map[string]T{}, toGQL: map[T]string{}}
	var names []string
	for _, p := range pairs {
		e.toGo[p.gql], e.toGQL[p.val] = p.val, p.gql
		names = append(names, p.gql)
	}
	e.names = strings.Join(names[:len(names)-1], ", ") + " or " + names[len(names)-1]
	return e
}

func pair[T ~string](gql string, val T) name[T] { return name[T]{gql, val} }

// marshal writes v's GraphQL name; a value core does not define is null,
// which gqlgen reports as an internal error on a non-null field.
func (e enum[T]) marshal(v T) graphql.Marshaler {
	s, ok := e.toGQL[v]
	if !ok {
		return graphql.Null
	}
	return graphql.MarshalString(s)
}

// unmarshal accepts exactly the GraphQL names. Anything else is the same
// client error gqlparser gives for an unknown enum value.
func (e enum[T]) unmarshal(v any) (T, error) {
	if s, ok := v.(string); ok {
		if t, ok := e.toGo[s]; ok {
			return t, nil
		}
	}
	shown := fmt.Sprint(v)
	if s, ok := v.(string); ok {
		shown = strconv.Quote(s)
	}
	err := gqlerror.Errorf("%s is not a valid %s: use %s", shown, e.name, e.names)
	errcode.Set(err, errcode.ValidationFailed)
	return "", err
}

// The enums' tables are fixed at compile time and never written.
var (
	taskStatuses = newEnum("TaskStatus",
		pair("PENDING", core.StatusPending), pair("ONGOING", core.StatusOngoing), pair("COMPLETE", core.StatusComplete))
	roles = newEnum("Role",
		pair("USER", core.RoleUser), pair("ADMIN", core.RoleAdmin))
	activationStatuses = newEnum("ActivationStatus",
		pair("ACTIVE", core.ActivationActive), pair("INACTIVE", core.ActivationInactive))
	taskOrderFields = newEnum("TaskOrderField",
		pair("CREATED_AT", core.OrderCreatedAt), pair("UPDATED_AT", core.OrderUpdatedAt), pair("DUE_DATE", core.OrderDueDate))
	orderDirections = newEnum("OrderDirection",
		pair("ASC", core.Ascending), pair("DESC", core.Descending))
	taskEventKinds = newEnum("TaskEventKind",
		pair("CREATED", core.TaskCreated), pair("UPDATED", core.TaskUpdated), pair("DELETED", core.TaskDeleted))
	userEventKinds = newEnum("UserEventKind",
		pair("CREATED", core.UserCreated), pair("UPDATED", core.UserUpdated))
)

// MarshalTaskEventKind writes a core.TaskEventKind as its GraphQL name.
func MarshalTaskEventKind(k core.TaskEventKind) graphql.Marshaler { return taskEventKinds.marshal(k) }

// UnmarshalTaskEventKind reads CREATED, UPDATED or DELETED.
func UnmarshalTaskEventKind(v any) (core.TaskEventKind, error) { return taskEventKinds.unmarshal(v) }

// MarshalUserEventKind writes a core.UserEventKind as its GraphQL name.
func MarshalUserEventKind(k core.UserEventKind) graphql.Marshaler { return userEventKinds.marshal(k) }

// UnmarshalUserEventKind reads CREATED or UPDATED.
func UnmarshalUserEventKind(v any) (core.UserEventKind, error) { return userEventKinds.unmarshal(v) }

// MarshalTaskOrderField writes a core.TaskOrderField as its GraphQL name.
func MarshalTaskOrderField(f core.TaskOrderField) graphql.Marshaler {
	return taskOrderFields.marshal(f)
}

// UnmarshalTaskOrderField reads CREATED_AT, UPDATED_AT or DUE_DATE.
func UnmarshalTaskOrderField(v any) (core.TaskOrderField, error) { return taskOrderFields.unmarshal(v) }

// MarshalOrderDirection writes a core.OrderDirection as its GraphQL name.
func MarshalOrderDirection(d core.OrderDirection) graphql.Marshaler {
	return orderDirections.marshal(d)
}

// UnmarshalOrderDirection reads ASC or DESC.
func UnmarshalOrderDirection(v any) (core.OrderDirection, error) { return orderDirections.unmarshal(v) }

// MarshalTaskStatus writes a core.TaskStatus as its GraphQL enum name.
func MarshalTaskStatus(s core.TaskStatus) graphql.Marshaler { return taskStatuses.marshal(s) }

// UnmarshalTaskStatus reads PENDING, ONGOING or COMPLETE.
func UnmarshalTaskStatus(v any) (core.TaskStatus, error) { return taskStatuses.unmarshal(v) }

// MarshalRole writes a core.Role as its GraphQL enum name.
func MarshalRole(r core.Role) graphql.Marshaler { return roles.marshal(r) }

// UnmarshalRole reads USER or ADMIN.
func UnmarshalRole(v any) (core.Role, error) { return roles.unmarshal(v) }

// MarshalActivationStatus writes a core.ActivationStatus as its GraphQL enum name.
func MarshalActivationStatus(a core.ActivationStatus) graphql.Marshaler {
	return activationStatuses.marshal(a)
}

// UnmarshalActivationStatus reads ACTIVE or INACTIVE.
func UnmarshalActivationStatus(v any) (core.ActivationStatus, error) {
	return activationStatuses.unmarshal(v)
}

// MarshalInt writes an Int.
func MarshalInt(i int) graphql.Marshaler { return graphql.MarshalInt(i) }

// UnmarshalInt reads an Int within GraphQL's 32-bit range: gqlparser
// checks the type of a value but not its range, and gqlgen's own Int takes
// 64 bits.
func UnmarshalInt(v any) (int, error) {
	n, err := graphql.UnmarshalInt32(v)
	if err != nil {
		err := gqlerror.Errorf("Int cannot represent %v: use a whole number between %d and %d", v, math.MinInt32, math.MaxInt32)
		errcode.Set(err, errcode.ValidationFailed)
		return 0, err
	}
	return int(n), nil
}

// core's text values are Strings in the schema: these marshalers let gqlgen
// bind them directly (no resolver per field). Inputs arrive as plain
// strings, which core parses.

func MarshalUsername(v core.Username) graphql.Marshaler { return graphql.MarshalString(string(v)) }
func MarshalEmail(v core.Email) graphql.Marshaler       { return graphql.MarshalString(string(v)) }
func MarshalTitle(v core.Title) graphql.Marshaler       { return graphql.MarshalString(string(v)) }
func MarshalDescription(v core.Description) graphql.Marshaler {
	return graphql.MarshalString(string(v))
}

func UnmarshalUsername(v any) (core.Username, error) {
	s, err := graphql.UnmarshalString(v)
	return core.Username(s), err
}
func UnmarshalEmail(v any) (core.Email, error) {
	s, err := graphql.UnmarshalString(v)
	return core.Email(s), err
}
func UnmarshalTitle(v any) (core.Title, error) {
	s, err := graphql.UnmarshalString(v)
	return core.Title(s), err
}
func UnmarshalDescription(v any) (core.Description, error) {
	s, err := graphql.UnmarshalString(v)
	return core.Description(s), err
}
