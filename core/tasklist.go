package core

import (
	"cmp"
	"context"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/cases"
	"golang.org/x/text/runes"
	"golang.org/x/text/transform"
	"golang.org/x/text/unicode/norm"
)

// TaskOrderField is what a task list is sorted by.
type TaskOrderField string

const (
	OrderCreatedAt TaskOrderField = "createdAt"
	OrderUpdatedAt TaskOrderField = "updatedAt"
	OrderDueDate   TaskOrderField = "dueDate" // tasks without one come last, either way
)

// TaskOrderFields lists the sort keys.
var TaskOrderFields = [...]TaskOrderField{OrderCreatedAt, OrderUpdatedAt, OrderDueDate}

// OrderDirection says which way a list is sorted.
type OrderDirection string

const (
	Ascending  OrderDirection = "asc"
	Descending OrderDirection = "desc"
)

// OrderDirections lists both.
var OrderDirections = [...]OrderDirection{Ascending, Descending}

// TaskOrder sorts a task list; ties (and CreatedAt) go by id, which is
// creation order.
type TaskOrder struct {
	Field     TaskOrderField
	Direction OrderDirection
}

// MaxSearchLen bounds a search string, in characters.
const MaxSearchLen = 100

// TaskListArgs asks for one page of the caller's tasks (the GraphQL
// arguments of Query.tasks): forward with First and After, or backward with
// Last and Before (the page that ends just before Before), never both.
type TaskListArgs struct {
	Status        *TaskStatus
	OrderBy       *TaskOrder // nil: by creation, oldest first
	Search        *string    // nil or blank: every task
	First, Last   *int
	After, Before *string
}

// ReadsWholeList reports whether the page a asks for is made by reading the
// caller's whole list (an order other than creation, or a search) rather
// than by a walk of the store's order: what the GraphQL cost of a list
// depends on (resolvers/handler.go).
func (a TaskListArgs) ReadsWholeList() bool {
	return (a.OrderBy != nil && a.OrderBy.Field != OrderCreatedAt) || (a.Search != nil && strings.TrimSpace(*a.Search) != "")
}

// ListTasks returns a page of the caller's tasks, oldest first unless
// a.OrderBy says otherwise, optionally with one status only and matching a
// search. A page is full (first or last items) whenever that many remain in
// its direction; first and last are capped at MaxPageSize.
//
// The default order, either way, is a walk of the store's own order (one
// read per page). Another order or a search sorts and filters the caller's
// whole list in memory (at most MaxTasksPerUser tasks): exact and always
// full, at the cost of reading every task of the list for each page.
func (s *Service) ListTasks(ctx context.Context, a TaskListArgs) (TaskConnection, error) {
	u, err := s.Actor(ctx)
	if err != nil {
		return TaskConnection{}, err
	}
	backward := a.Last != nil || a.Before != nil
	if backward && (a.First != nil || a.After != nil) {
		return TaskConnection{}, Invalid(FieldError{Field: "last", Kind: KindFormat, Format: "page",
			Reason: "page forward with first and after, or backward with last and before, not both"})
	}
	size, from := a.First, a.After
	if backward {
		size, from = a.Last, a.Before
	}
	limit, err := pageSize(size)
	if err != nil {
		if backward {
			err = forField(err, "last")
		}
		return TaskConnection{}, err
	}
	if a.Status != nil && !a.Status.Valid() {
		return TaskConnection{}, Invalid(*enumError("status", *a.Status, TaskStatuses[:]))
	}
	order := TaskOrder{Field: OrderCreatedAt, Direction: Ascending}
	if a.OrderBy != nil {
		order = *a.OrderBy
		if !slices.Contains(TaskOrderFields[:], order.Field) {
			return TaskConnection{}, Invalid(*enumError("orderBy.field", order.Field, TaskOrderFields[:]))
		}
		if !slices.Contains(OrderDirections[:], order.Direction) {
			return TaskConnection{}, Invalid(*enumError("orderBy.direction", order.Direction, OrderDirections[:]))
		}
	}
	desc := order.Direction == Descending
	search, err := parseSearch(a.Search)
	if err != nil {
		return TaskConnection{}, err
	}

	// A cursor is valid only for the list it was made for: same user,
	// status, order and search.
	scope := "tasks\x00" + u.ID + "\x00"
	if a.Status != nil {
		scope += string(*a.Status)
	}
	if order != (TaskOrder{Field: OrderCreatedAt, Direction: Ascending}) || search != "" {
		scope += "\x00" + string(order.Field) + "\x00" + string(order.Direction) + "\x00" + search
	}
	pos, err := s.cursors.decode(scope, deref(from))
	if err != nil {
		if backward {
			err = forField(err, "before")
		}
		return TaskConnection{}, err
	}

	var (
		tasks []Task
		more  bool
		total = -1 // unknown yet: the stats say
		key   = func(t Task) string { return t.ID }
	)
	if !a.ReadsWholeList() {
		q := TaskQuery{Status: a.Status, After: pos, Limit: max(limit, 1), Reverse: backward != desc}
		if tasks, more, err = s.store.ListTasks(ctx, u.ID, q); err != nil {
			return TaskConnection{}, err
		}
		if backward {
			slices.Reverse(tasks)
		}
	} else {
		all, err := collect(func(after string) ([]Task, bool, error) {
			return s.store.ListTasks(ctx, u.ID, TaskQuery{Status: a.Status, After: after, Limit: scanPageSize})
		}, func(t Task) string { return t.ID }, func(t Task) bool { return search == "" || matches(t, search) })
		if err != nil {
			return TaskConnection{}, err
		}
		if search != "" {
			total = len(all)
		}
		key = func(t Task) string { return sortKey(t, order.Field) }
		// Each key is made once, not at every comparison.
		keyed := make([]keyedTask, len(all))
		for i, t := range all {
			keyed[i] = keyedTask{key(t), t}
		}
		slices.SortFunc(keyed, func(x, y keyedTask) int { return compareKeys(x.key, y.key, desc) })
		tasks, more = window(keyed, pos, max(limit, 1), desc, backward)
	}
	if limit == 0 {
		more, tasks = len(tasks) > 0, nil
	}
	if total < 0 {
		stats, err := s.store.TaskStats(ctx, u.ID)
		if err != nil {
			return TaskConnection{}, err
		}
		total = stats.Total()
		if a.Status != nil {
			total = stats.Count(*a.Status)
		}
	}
	c := TaskConnection{Edges: make([]TaskEdge, len(tasks)), TotalCount: total}
	for i, t := range tasks {
		c.Edges[i] = TaskEdge{Cursor: s.cursors.encode(scope, key(t)), Node: t}
	}
	// The direction walked is exact; the other says whether the page was
	// reached through a cursor (tasks before it may since have gone), as
	// the Relay specification allows.
	c.PageInfo.HasNextPage, c.PageInfo.HasPreviousPage = more, pos != ""
	if backward {
		c.PageInfo.HasNextPage, c.PageInfo.HasPreviousPage = pos != "", more
	}
	if n := len(c.Edges); n > 0 {
		c.PageInfo.StartCursor, c.PageInfo.EndCursor = &c.Edges[0].Cursor, &c.Edges[n-1].Cursor
	}
	return c, nil
}

// sortKey is t's position in a list sorted by field: the sort value, then
// the id, as one string that compares as the order does. A cursor holds it,
// so a page resumes at the same place even if the task it came from has
// since changed or gone. Creation order is id order (UUIDv7), as in the
// store's walk; times are at the millisecond, fixed-width, as clients see
// them, so a client cache that places a task by the fields it holds agrees
// with the server (clients/src/tasklists.js). A task without a due date has
// the empty value.
func sortKey(t Task, field TaskOrderField) string {
	var v time.Time
	switch field {
	case OrderUpdatedAt:
		v = t.UpdatedAt
	case OrderDueDate:
		if t.DueDate == nil {
			return "\x00" + t.ID
		}
		v = *t.DueDate
	default:
		return t.ID
	}
	return v.UTC().Format(sortTimeLayout) + "\x00" + t.ID
}

const sortTimeLayout = "2006-01-02T15:04:05.000Z"

// compareKeys orders two sort keys, descending if desc, with keys without
// a value (no due date) after every other either way.
func compareKeys(x, y string, desc bool) int {
	xNone, yNone := strings.HasPrefix(x, "\x00"), strings.HasPrefix(y, "\x00")
	switch {
	case xNone != yNone && xNone:
		return 1
	case xNone != yNone:
		return -1
	case desc:
		return cmp.Compare(y, x)
	}
	return cmp.Compare(x, y)
}

// keyedTask is a task with its sortKey.
type keyedTask struct {
	key  string
	task Task
}

// window returns the page of sorted (in list order) that starts just after
// pos (forward) or ends just before it (backward), and whether more follow
// in the direction walked.
func window(sorted []keyedTask, pos string, limit int, desc, backward bool) ([]Task, bool) {
	// i: the first task at or after pos in list order.
	i := 0
	if pos != "" {
		i, _ = slices.BinarySearchFunc(sorted, pos, func(t keyedTask, p string) int { return compareKeys(t.key, p, desc) })
		if i < len(sorted) && sorted[i].key == pos && !backward {
			i++
		}
	}
	var page []keyedTask
	var more bool
	if backward {
		if pos == "" {
			i = len(sorted)
		}
		page, more = sorted[max(0, i-limit):i], i > limit
	} else {
		rest := sorted[i:]
		page, more = rest[:min(limit, len(rest))], len(rest) > limit
	}
	out := make([]Task, len(page))
	for j, k := range page {
		out[j] = k.task
	}
	return out, more
}

// searchFold makes text comparable for search: decomposed, without
// combining marks (é → e), case-folded (ß → ss).
var searchFold = transform.Chain(norm.NFD, runes.Remove(runes.In(unicode.Mn)), cases.Fold(), norm.NFC)

func fold(s string) string {
	if isASCII(s) { // most text: case folding is lowercasing, no marks
		return strings.ToLower(s)
	}
	out, _, err := transform.String(searchFold, s)
	if err != nil {
		return strings.ToLower(s)
	}
	return out
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// parseSearch reads a search string: blank is none; otherwise at most
// MaxSearchLen characters, folded.
func parseSearch(s *string) (string, error) {
	if s == nil || strings.TrimSpace(*s) == "" {
		return "", nil
	}
	q := strings.TrimSpace(*s)
	if !utf8.ValidString(q) {
		return "", Invalid(FieldError{Field: "search", Kind: KindCharacters, Reason: "must be valid UTF-8 text"})
	}
	if n := utf8.RuneCountInString(q); n > MaxSearchLen {
		return "", Invalid(FieldError{Field: "search", Kind: KindTooLong, Max: MaxSearchLen, Input: truncate(q)})
	}
	return fold(q), nil
}

// matches reports whether the folded search q is a substring of t's folded
// title or description.
func matches(t Task, q string) bool {
	return strings.Contains(fold(string(t.Title)), q) || strings.Contains(fold(string(t.Description)), q)
}
