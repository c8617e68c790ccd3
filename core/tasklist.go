package core

import (
	"bytes"
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

// Scans reports whether the page a asks for may read more of the caller's
// list than the page itself: a search walks on past the tasks that do not
// match, up to the whole list. Every order has an index (TaskKey), so an
// order alone costs what the default does. The GraphQL cost of a list
// depends on it (resolvers/handler.go).
func (a TaskListArgs) Scans() bool {
	return a.Search != nil && strings.TrimSpace(*a.Search) != ""
}

// ListTasks returns a page of the caller's tasks, oldest first unless
// a.OrderBy says otherwise, optionally with one status only and matching a
// search. A page is full (first or last items) whenever that many remain in
// its direction; first and last are capped at MaxPageSize.
//
// Every order is a walk of a store index (TaskKey), one read per page; a
// search is a filter on that walk, which goes on until the page is full or
// the list ends. The connection's totalCount is counted only when asked.
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
	search, err := parseSearch(a.Search)
	if err != nil {
		return TaskConnection{}, err
	}

	// A cursor is valid only for the list it was made for: same user,
	// status, order and search ("2": the key format of TaskKey, which
	// replaced an earlier one).
	scope := "tasks\x00" + u.ID + "\x00"
	if a.Status != nil {
		scope += string(*a.Status)
	}
	if order != (TaskOrder{Field: OrderCreatedAt, Direction: Ascending}) || search != "" {
		scope += "\x002\x00" + string(order.Field) + "\x00" + string(order.Direction) + "\x00" + search
	}
	pos, err := s.cursors.decode(scope, deref(from))
	if err != nil {
		if backward {
			err = forField(err, "before")
		}
		return TaskConnection{}, err
	}

	tasks, more, err := s.walkTasks(ctx, u.ID, TaskQuery{Status: a.Status, Order: order.Field, After: pos, Limit: max(limit, 1),
		Reverse: backward != (order.Direction == Descending), Search: search}, backward)
	if err != nil {
		return TaskConnection{}, err
	}
	if limit == 0 {
		more, tasks = len(tasks) > 0, nil
	}
	status, userID := a.Status, u.ID
	whole := pos == "" && !more // the walk went from one end to the other: it saw every match
	c := TaskConnection{Edges: make([]TaskEdge, len(tasks)), count: func(ctx context.Context) (int, error) {
		switch {
		case search != "" && whole:
			return len(tasks), nil
		case search != "":
			return s.store.CountTasks(ctx, userID, status, search)
		}
		stats, err := s.store.TaskStats(ctx, userID)
		if status != nil {
			return stats.Count(*status), err
		}
		return stats.Total(), err
	}}
	for i, t := range tasks {
		c.Edges[i] = TaskEdge{Cursor: s.cursors.encode(scope, TaskKey(t, order.Field)), Node: t}
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

// walkTasks reads one page of q's walk, in list order, and whether more
// follow in the direction walked. A list by due date is two walks of the
// store's index, the tasks with a due date and then those without (last
// either way): a page that crosses from one to the other reads both.
// backward pages walk the list's segments in reverse.
func (s *Service) walkTasks(ctx context.Context, userID string, q TaskQuery, backward bool) ([]Task, bool, error) {
	if q.Order != OrderDueDate {
		tasks, more, err := s.store.ListTasks(ctx, userID, q)
		if backward {
			slices.Reverse(tasks)
		}
		return tasks, more, err
	}
	segments := []bool{false, true} // Undated, in list order
	if backward {
		segments = []bool{true, false}
	}
	// A cursor in the undated segment starts there (a forward walk) or
	// skips none of it (a backward one).
	if q.After != "" && IsUndatedKey(q.After) != backward {
		segments = segments[1:]
	}
	var out []Task
	limit := q.Limit
	for i, undated := range segments {
		sq := q
		sq.Undated, sq.Limit = undated, limit-len(out)
		if i > 0 {
			sq.After = "" // the next segment, from its start
		}
		if sq.Limit == 0 { // the page is full: do more follow?
			sq.Limit = 1
			next, _, err := s.store.ListTasks(ctx, userID, sq)
			if err != nil {
				return nil, false, err
			}
			if len(next) > 0 {
				return finish(out, backward), true, nil
			}
			continue
		}
		page, more, err := s.store.ListTasks(ctx, userID, sq)
		if err != nil {
			return nil, false, err
		}
		out = append(out, page...)
		if more {
			return finish(out, backward), true, nil
		}
	}
	return finish(out, backward), false, nil
}

func finish(tasks []Task, backward bool) []Task {
	if backward {
		slices.Reverse(tasks)
	}
	return tasks
}

// TaskKey is t's position in a list sorted by field, as one string that a
// store's index compares byte by byte: the sort value, then the id. Creation
// order is id order (UUIDv7), the key the id alone; times are at the
// millisecond, fixed-width, as clients see them, so a client cache that
// places a task by the fields it holds agrees with the server
// (clients/src/tasklists.js). A task without a due date has UndatedKeyPrefix
// and its id, after every date. A cursor holds the key, so a page resumes at
// the same place even if the task it came from has since changed or gone.
func TaskKey(t Task, field TaskOrderField) string {
	var v time.Time
	switch field {
	case OrderUpdatedAt:
		v = t.UpdatedAt
	case OrderDueDate:
		if t.DueDate == nil {
			return UndatedKeyPrefix + t.ID
		}
		v = *t.DueDate
	default:
		return t.ID
	}
	return v.UTC().Format(sortTimeLayout) + "#" + t.ID
}

// UndatedKeyPrefix starts the OrderDueDate key of a task without a due date:
// it sorts after every date (a digit).
const UndatedKeyPrefix = "~"

// IsUndatedKey reports whether an OrderDueDate key is a task's without a
// due date.
func IsUndatedKey(k string) bool { return strings.HasPrefix(k, UndatedKeyPrefix) }

const sortTimeLayout = "2006-01-02T15:04:05.000Z"

// SearchText is what a search looks in, as a store keeps it next to its
// index keys: the folded title and description, apart (a search never
// matches across them: it cannot hold the separator, parseSearch).
func SearchText(t Task) string {
	return fold(string(t.Title)) + "\x00" + fold(string(t.Description))
}

// SearchMatches reports whether a task whose SearchText is text matches the
// folded search q: a substring of its title or description. DynamoDB's
// contains() filter is the same test (store/dynamo); SearchMatcher is the
// same test, faster over many texts.
func SearchMatches(text, q string) bool { return strings.Contains(text, q) }

// SearchMatcher tests many search texts against one folded search q, as
// SearchMatches does. It looks first for q's rarest byte (by how often
// it occurs in English text), not its first: counting a search's matches
// among 10,000 tasks spent most of its time on false starts at common
// letters (store/embedded BenchmarkCountTasks).
type SearchMatcher struct {
	q      []byte
	anchor int // index in q of its rarest byte
}

// NewSearchMatcher prepares q.
func NewSearchMatcher(q string) SearchMatcher {
	m := SearchMatcher{q: []byte(q)}
	for i := range m.q {
		if commonness(m.q[i]) < commonness(m.q[m.anchor]) {
			m.anchor = i
		}
	}
	return m
}

// Match reports whether text (a SearchText) holds the search.
func (m SearchMatcher) Match(text []byte) bool {
	if len(m.q) == 0 {
		return true
	}
	a := m.q[m.anchor]
	for from := m.anchor; from+len(m.q)-m.anchor <= len(text); {
		i := bytes.IndexByte(text[from:len(text)-(len(m.q)-m.anchor-1)], a)
		if i < 0 {
			return false
		}
		start := from + i - m.anchor
		if bytes.Equal(text[start:start+len(m.q)], m.q) {
			return true
		}
		from += i + 1
	}
	return false
}

// commonness ranks a byte by how often it occurs in English text: space
// and the common letters high, digits, punctuation and other bytes low.
func commonness(b byte) int {
	const byFrequency = " etaoinshrdlcumwfgypbvkjxqz" // most common first
	if i := strings.IndexByte(byFrequency, b); i >= 0 {
		return len(byFrequency) - i
	}
	return 0
}

// searchFold makes text comparable for search: decomposed, without
// combining marks (é → e), case-folded (ß → ss). A new chain each time: a
// transformer keeps state, so one shared chain would race.
func searchFold() transform.Transformer {
	return transform.Chain(norm.NFD, runes.Remove(runes.In(unicode.Mn)), cases.Fold(), norm.NFC)
}

func fold(s string) string {
	if isASCII(s) { // most text: case folding is lowercasing, no marks
		return strings.ToLower(s)
	}
	out, _, err := transform.String(searchFold(), s)
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
	if strings.ContainsFunc(q, unicode.IsControl) {
		return "", Invalid(FieldError{Field: "search", Kind: KindCharacters, Reason: "must not contain control characters", Input: truncate(q)})
	}
	if n := utf8.RuneCountInString(q); n > MaxSearchLen {
		return "", Invalid(FieldError{Field: "search", Kind: KindTooLong, Max: MaxSearchLen, Input: truncate(q)})
	}
	return fold(q), nil
}
