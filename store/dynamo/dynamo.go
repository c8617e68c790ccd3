// Package dynamo is the DynamoDB implementation of core.Store
// (aws-sdk-go-v2). The table layout is documented in docs/dynamodb.md; in
// short:
//
//   - USERS_TABLE (key user_id) holds users ("VAH" + n) with their task
//     counters, one email guard item per user ("EMAIL#<email>", owner = id)
//     and the id sequence ("SEQUENCE#users", value). GSI email-index (email).
//   - TASKS_TABLE (key user_id, task_id) holds tasks; GSI status-index
//     (user_id, status_task_id = "<status>#<task_id>") serves the status
//     filter, and four more serve the other orders (core.TaskKey in
//     updated_key and due_key), with and without a status (user_status =
//     "<user_id>#<status>"). search_text (core.SearchText) is what a search
//     filter reads.
//
// Uniqueness and counters are kept by conditional transactions, never by a
// read followed by an unconditional write. Item structs never leave the
// package; errors leave it as core domain errors, or as internal errors that
// name the operation.
package dynamo

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/taskapi/taskapi/core"
)

// Index names, the same in Terraform (a test compares them).
const (
	EmailIndex  = "email-index"
	StatusIndex = "status-index"
	// The orders other than creation, of every task (partition user_id)
	// and of one status (partition user_status).
	UpdatedIndex       = "updated-index"        // user_id, updated_key
	DueIndex           = "due-index"            // user_id, due_key
	StatusUpdatedIndex = "status-updated-index" // user_status, updated_key
	StatusDueIndex     = "status-due-index"     // user_status, due_key
)

// Attribute names and key shapes of the layout.
const (
	attrUserID       = "user_id"
	attrTaskID       = "task_id"
	attrEmail        = "email"
	attrStatusTaskID = "status_task_id"
	attrUpdatedKey   = "updated_key" // core.TaskKey(t, OrderUpdatedAt)
	attrDueKey       = "due_key"     // core.TaskKey(t, OrderDueDate)
	attrUserStatus   = "user_status" // "<user_id>#<status>"
	attrSearchText   = "search_text" // core.SearchText(t)
	attrStatus       = "status"
	attrUpdatedAt    = "updated_at"
	attrDueDate      = "due_date"
	attrOwner        = "owner"
	attrValue        = "value"

	attrActive    = "active"
	attrTaskCount = "task_count"

	attrSessions  = "sessions"
	attrDeletedAt = "deleted_at"
	attrPassword  = "password"
	attrReset     = "password_reset_required"
	attrDuplicate = "duplicate_email"
	attrExpiresAt = "expires_at" // the users table's TTL attribute (session items)

	emailGuardPrefix = "EMAIL#"
	sessionPrefix    = "SESSION#"
	userSequenceKey  = "SEQUENCE#users"
	adminCounterKey  = "COUNTER#admins" // attribute active: how many active admins

	// maxKeyLen is DynamoDB's limit for a sort key (partition keys allow
	// 2048): longer ids cannot name anything stored.
	maxKeyLen = 1024
)

// Tables names the two tables.
type Tables struct {
	Users string // USERS_TABLE
	Tasks string // TASKS_TABLE
}

// Store is core.Store over DynamoDB. It is safe for concurrent use.
type Store struct {
	db     *dynamodb.Client
	tables Tables
	// searchPage, if set, replaces the searchPage constant (tests walk
	// many pages over few items with it).
	searchPage int
}

var _ core.Store = (*Store)(nil)

// New returns a Store over client (see NewClient) and tables, which must
// exist (see CreateTables).
func New(client *dynamodb.Client, tables Tables) *Store {
	return &Store{db: client, tables: tables}
}

// Close does nothing: the client holds no resources that need releasing.
func (s *Store) Close() error { return nil }

// ---- items ----

type userItem struct {
	UserID           string `dynamodbav:"user_id"`
	Username         string `dynamodbav:"username"`
	Email            string `dynamodbav:"email"`
	Password         string `dynamodbav:"password"`
	Role             string `dynamodbav:"role"`
	ActivationStatus string `dynamodbav:"activation_status"`
	CreatedAt        string `dynamodbav:"created_at"`
	Sessions         string `dynamodbav:"sessions,omitempty"`                // core.SessionSet's encoding
	DeletedAt        string `dynamodbav:"deleted_at,omitempty"`              // the deletion has begun (core/account.go)
	PasswordReset    bool   `dynamodbav:"password_reset_required,omitempty"` // migrate-legacy could not convert the password
	DuplicateEmail   bool   `dynamodbav:"duplicate_email,omitempty"`         // migrate-legacy: an older user has the address
}

// guardItem reserves an email for its owner.
type guardItem struct {
	Key   string `dynamodbav:"user_id"` // emailGuardPrefix + email
	Owner string `dynamodbav:"owner"`
}

type taskItem struct {
	UserID       string `dynamodbav:"user_id"`
	TaskID       string `dynamodbav:"task_id"`
	Title        string `dynamodbav:"title"`
	Description  string `dynamodbav:"description"`
	Status       string `dynamodbav:"status"`
	CreatedAt    string `dynamodbav:"created_at"`
	UpdatedAt    string `dynamodbav:"updated_at"`
	StatusTaskID string `dynamodbav:"status_task_id"`
	DueDate      string `dynamodbav:"due_date,omitempty"` // absent: none
	// Derived from the fields above, for the indexes and the search
	// filter (taskIndexAttrs); never read back.
	UpdatedKey string `dynamodbav:"updated_key"`
	DueKey     string `dynamodbav:"due_key"`
	UserStatus string `dynamodbav:"user_status"`
	SearchText string `dynamodbav:"search_text"`
}

func formatTime(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

func parseTime(s string) (time.Time, error) { return time.Parse(time.RFC3339Nano, s) }

func toUserItem(u core.User) userItem {
	return userItem{
		UserID: u.ID, Username: string(u.Username), Email: string(u.Email), Password: u.PasswordHash,
		Role: string(u.Role), ActivationStatus: string(u.ActivationStatus), CreatedAt: formatTime(u.CreatedAt),
		Sessions: u.Sessions.Encode(), DeletedAt: formatOptionalTime(u.DeletedAt),
		PasswordReset: u.NeedsPasswordReset, DuplicateEmail: u.DuplicateEmail,
	}
}

func formatOptionalTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return formatTime(t)
}

func (it userItem) user() (core.User, error) {
	var created time.Time
	var err error
	if it.CreatedAt != "" { // the legacy app stored none (migrate-legacy adds it)
		if created, err = parseTime(it.CreatedAt); err != nil {
			return core.User{}, fmt.Errorf("dynamo: user %s: bad created_at: %w", it.UserID, err)
		}
	}
	var deleted time.Time
	if it.DeletedAt != "" {
		if deleted, err = parseTime(it.DeletedAt); err != nil {
			return core.User{}, fmt.Errorf("dynamo: user %s: bad deleted_at: %w", it.UserID, err)
		}
	}
	return core.User{
		ID: it.UserID, Username: core.Username(it.Username), Email: core.Email(it.Email), PasswordHash: it.Password,
		Role: core.Role(it.Role), ActivationStatus: core.ActivationStatus(it.ActivationStatus), CreatedAt: created,
		Sessions: core.SessionSetOf(it.Sessions), DeletedAt: deleted,
		NeedsPasswordReset: it.PasswordReset, DuplicateEmail: it.DuplicateEmail,
	}, nil
}

func statusTaskID(st core.TaskStatus, taskID string) string { return string(st) + "#" + taskID }

func userStatus(userID string, st core.TaskStatus) string { return userID + "#" + string(st) }

// taskIndexAttrs returns the derived attributes of t, by name: every write
// of a task sets them from the task as written (and Reconcile backfills
// them), so the indexes and the search filter always see the stored fields.
func taskIndexAttrs(t core.Task) map[string]string {
	return map[string]string{
		attrStatusTaskID: statusTaskID(t.Status, t.ID),
		attrUpdatedKey:   core.TaskKey(t, core.OrderUpdatedAt),
		attrDueKey:       core.TaskKey(t, core.OrderDueDate),
		attrUserStatus:   userStatus(t.UserID, t.Status),
		attrSearchText:   core.SearchText(t),
	}
}

// taskIndexAttrNames lists taskIndexAttrs' keys in a fixed order (stable
// expressions).
var taskIndexAttrNames = []string{attrStatusTaskID, attrUpdatedKey, attrDueKey, attrUserStatus, attrSearchText}

func toTaskItem(t core.Task) taskItem {
	a := taskIndexAttrs(t)
	return taskItem{
		UserID: t.UserID, TaskID: t.ID, Title: string(t.Title), Description: string(t.Description), Status: string(t.Status),
		CreatedAt: formatTime(t.CreatedAt), UpdatedAt: formatTime(t.UpdatedAt), StatusTaskID: a[attrStatusTaskID],
		DueDate:    formatDueDate(t.DueDate),
		UpdatedKey: a[attrUpdatedKey], DueKey: a[attrDueKey], UserStatus: a[attrUserStatus], SearchText: a[attrSearchText],
	}
}

func formatDueDate(t *time.Time) string {
	if t == nil {
		return ""
	}
	return formatTime(*t)
}

func (it taskItem) task() (core.Task, error) {
	created, err := parseTime(it.CreatedAt)
	if err != nil {
		return core.Task{}, fmt.Errorf("dynamo: task %s: bad created_at: %w", it.TaskID, err)
	}
	updated, err := parseTime(it.UpdatedAt)
	if err != nil {
		return core.Task{}, fmt.Errorf("dynamo: task %s: bad updated_at: %w", it.TaskID, err)
	}
	t := core.Task{
		ID: it.TaskID, UserID: it.UserID, Title: core.Title(it.Title), Description: core.Description(it.Description),
		Status: core.TaskStatus(it.Status), CreatedAt: created, UpdatedAt: updated,
	}
	if it.DueDate != "" {
		due, err := parseTime(it.DueDate)
		if err != nil {
			return core.Task{}, fmt.Errorf("dynamo: task %s: bad due_date: %w", it.TaskID, err)
		}
		t.DueDate = &due
	}
	return t, nil
}

func decodeUser(av map[string]types.AttributeValue) (core.User, error) {
	var it userItem
	if err := attributevalue.UnmarshalMap(av, &it); err != nil {
		return core.User{}, fmt.Errorf("dynamo: decode user: %w", err)
	}
	return it.user()
}

func decodeTask(av map[string]types.AttributeValue) (core.Task, error) {
	var it taskItem
	if err := attributevalue.UnmarshalMap(av, &it); err != nil {
		return core.Task{}, fmt.Errorf("dynamo: decode task: %w", err)
	}
	return it.task()
}

func str(s string) types.AttributeValue { return &types.AttributeValueMemberS{Value: s} }

func userKey(id string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{attrUserID: str(id)}
}

func taskKey(userID, taskID string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{attrUserID: str(userID), attrTaskID: str(taskID)}
}

// counter is the user attribute counting tasks in status st.
func counter(st core.TaskStatus) string { return string(st) + "_count" }

// ---- input checks ----

// validKey reports whether s can be a key value at all; anything else
// cannot name a stored item (DynamoDB would refuse the request).
func validKey(s string) bool { return s != "" && len(s) <= maxKeyLen && utf8.ValidString(s) }

// guardKey is the key of the item that reserves an email key.
func guardKey(k core.EmailKey) string { return emailGuardPrefix + string(k) }

// ---- errors ----

func unavailable(cause error) error { return &core.Error{Code: core.CodeUnavailable, Err: cause} }

// throttleCodes are API error codes meaning "too much load right now".
var throttleCodes = map[string]bool{
	"ProvisionedThroughputExceededException": true,
	"ThrottlingException":                    true,
	"RequestLimitExceeded":                   true,
	"LimitExceededException":                 true,
	"TransactionConflictException":           true,
	"TransactionInProgressException":         true,
	"InternalServerError":                    true,
	"ServiceUnavailable":                     true,
}

// misconfiguredCodes are API error codes meaning the deployment is wrong
// (credentials refused, a role without the permission), not the request.
var misconfiguredCodes = map[string]bool{
	"AccessDeniedException":               true,
	"UnrecognizedClientException":         true,
	"InvalidSignatureException":           true,
	"ExpiredTokenException":               true,
	"MissingAuthenticationTokenException": true,
	"IncompleteSignature":                 true,
}

// fail translates a client error of operation op at the store's edge:
// domain errors pass through; a missing table says how to create it;
// throttling, timeouts and network failures become core.ErrUnavailable
// wrapping the cause; anything else is an internal error naming op.
func (s *Store) fail(op string, err error) error {
	if err == nil {
		return nil
	}
	if _, ok := core.AsError(err); ok {
		return err
	}
	wrapped := fmt.Errorf("dynamo: %s: %w", op, err)
	// A missing table or missing credentials are the operator's to fix, not
	// the client's: 503 (the service cannot work as deployed) with the cause
	// logged, never a 500 that looks like a bug. `taskapi serve` finds both
	// at start (cmd/taskapi/serve.go); inside Lambda it cannot look.
	var notFound *types.ResourceNotFoundException
	if errors.As(err, &notFound) {
		return unavailable(fmt.Errorf("dynamo: %s: table %q or %q does not exist: run taskapi create-tables: %w", op, s.tables.Users, s.tables.Tasks, err))
	}
	if strings.Contains(err.Error(), "get credentials") { // the SDK's credential chain failed; it has no error type for it
		return unavailable(fmt.Errorf("dynamo: %s: no AWS credentials: %w", op, err))
	}
	if errors.Is(err, context.Canceled) {
		return wrapped // the caller went away: nothing to report to anyone
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return unavailable(wrapped)
	}
	var api smithy.APIError
	if errors.As(err, &api) {
		if throttleCodes[api.ErrorCode()] || misconfiguredCodes[api.ErrorCode()] || api.ErrorFault() == smithy.FaultServer {
			return unavailable(wrapped)
		}
		return wrapped
	}
	var send *smithyhttp.RequestSendError
	var netErr net.Error
	var resp *smithyhttp.ResponseError
	if errors.As(err, &send) || errors.As(err, &netErr) {
		return unavailable(wrapped)
	}
	if errors.As(err, &resp) && resp.HTTPStatusCode() >= 500 {
		return unavailable(wrapped)
	}
	return wrapped
}

// conditionFailed reports whether err is a single-item
// ConditionalCheckFailedException.
func conditionFailed(err error) (*types.ConditionalCheckFailedException, bool) {
	var ccf *types.ConditionalCheckFailedException
	ok := errors.As(err, &ccf)
	return ccf, ok
}
