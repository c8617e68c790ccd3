package dynamo_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/taskapi/taskapi/core"
	"github.com/taskapi/taskapi/internal/testenv"
	"github.com/taskapi/taskapi/store/dynamo"
	"github.com/taskapi/taskapi/store/storetest"
)

// newClient returns a client of endpoint; onCall (optional) sees every
// operation.
func newClient(tb testing.TB, endpoint string, onCall func(string)) *dynamodb.Client {
	tb.Helper()
	c, err := dynamo.NewClient(tb.Context(), dynamo.Options{Endpoint: endpoint, Region: "us-east-1", OnCall: onCall})
	if err != nil {
		tb.Fatalf("NewClient: %v", err)
	}
	return c
}

// uniqueTables returns table names no other test uses, so tests can share
// one emulator.
func uniqueTables(tb testing.TB) dynamo.Tables {
	tb.Helper()
	b := make([]byte, 6)
	if _, err := rand.Read(b); err != nil {
		tb.Fatal(err)
	}
	prefix := "taskapi-test-" + hex.EncodeToString(b)
	return dynamo.Tables{Users: prefix + "-users", Tasks: prefix + "-tasks"}
}

// dropTables deletes tables when tb ends, so a shared emulator stays small.
func dropTables(tb testing.TB, client *dynamodb.Client, tables dynamo.Tables) {
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		for _, name := range []string{tables.Users, tables.Tasks} {
			_, _ = client.DeleteTable(ctx, &dynamodb.DeleteTableInput{TableName: aws.String(name)})
		}
	})
}

// MustOpen returns a store over fresh tables, dropped when tb ends.
func MustOpen(tb testing.TB, client *dynamodb.Client) (*dynamo.Store, dynamo.Tables) {
	tb.Helper()
	tables := uniqueTables(tb)
	s := dynamo.New(client, tables)
	dropTables(tb, client, tables)
	if err := s.CreateTables(tb.Context()); err != nil {
		tb.Fatalf("CreateTables: %v", err)
	}
	return s, tables
}

// rawItem reads one item as stored, or nil.
func rawItem(tb testing.TB, client *dynamodb.Client, table string, key map[string]string) map[string]any {
	tb.Helper()
	k := map[string]types.AttributeValue{}
	for name, v := range key {
		k[name] = &types.AttributeValueMemberS{Value: v}
	}
	out, err := client.GetItem(tb.Context(), &dynamodb.GetItemInput{TableName: &table, Key: k, ConsistentRead: aws.Bool(true)})
	if err != nil {
		tb.Fatalf("GetItem %s %v: %v", table, key, err)
	}
	if out.Item == nil {
		return nil
	}
	var m map[string]any
	if err := attributevalue.UnmarshalMap(out.Item, &m); err != nil {
		tb.Fatal(err)
	}
	return m
}

// rawScan returns every item of table as stored.
func rawScan(tb testing.TB, client *dynamodb.Client, table string) []map[string]any {
	tb.Helper()
	var all []map[string]any
	p := dynamodb.NewScanPaginator(client, &dynamodb.ScanInput{TableName: &table, ConsistentRead: aws.Bool(true)})
	for p.HasMorePages() {
		out, err := p.NextPage(tb.Context())
		if err != nil {
			tb.Fatalf("Scan %s: %v", table, err)
		}
		var items []map[string]any
		if err := attributevalue.UnmarshalListOfMaps(out.Items, &items); err != nil {
			tb.Fatal(err)
		}
		all = append(all, items...)
	}
	return all
}

// recount counts userID's task items per status as stored, and checks each
// one's status-index key.
func recount(tb testing.TB, client *dynamodb.Client, tables dynamo.Tables, userID string) core.TaskStats {
	tb.Helper()
	var st core.TaskStats
	for _, it := range rawScan(tb, client, tables.Tasks) {
		if it["user_id"] != userID {
			continue
		}
		status := core.TaskStatus(fmt.Sprint(it["status"]))
		if want := string(status) + "#" + fmt.Sprint(it["task_id"]); it["status_task_id"] != want {
			tb.Errorf("task %v: status_task_id %v, want %s", it["task_id"], it["status_task_id"], want)
		}
		st = st.Add(status, 1)
	}
	return st
}

// storedCounters reads the counters on userID's item.
func storedCounters(tb testing.TB, client *dynamodb.Client, tables dynamo.Tables, userID string) core.TaskStats {
	tb.Helper()
	it := rawItem(tb, client, tables.Users, map[string]string{"user_id": userID})
	n := func(name string) int {
		f, ok := it[name].(float64)
		if !ok {
			tb.Fatalf("user %s: %s = %#v, want a number", userID, name, it[name])
		}
		return int(f)
	}
	var st core.TaskStats
	for _, status := range core.TaskStatuses {
		st = st.Add(status, n(string(status)+"_count"))
	}
	return st
}

func wantErrIs(tb testing.TB, err, target error) {
	tb.Helper()
	if !errors.Is(err, target) {
		tb.Fatalf("got error %v, want %v", err, target)
	}
}

func TestDynamoDB(t *testing.T) {
	endpoint := testenv.DynamoDB(t)
	client := newClient(t, endpoint, nil)

	t.Run("Contract", func(t *testing.T) {
		storetest.Run(t, func(t *testing.T) core.Store {
			s, _ := MustOpen(t, client)
			return s
		})
	})

	t.Run("EveryOrderWalksItsIndex", func(t *testing.T) {
		t.Parallel()
		testIndexWalks(t, client)
	})

	t.Run("RepairBackfillsTheIndexAttributes", func(t *testing.T) {
		t.Parallel()
		testBackfill(t, client)
	})

	t.Run("ItemLayoutIsTheDocumentedOne", func(t *testing.T) {
		t.Parallel()
		testItemLayout(t, client)
	})

	t.Run("ConcurrentSameEmailLeavesOneUserAndOneGuard", func(t *testing.T) {
		t.Parallel()
		s, tables := MustOpen(t, client)
		const n = 16
		var wg sync.WaitGroup
		errs := make([]error, n)
		users := make([]core.User, n)
		for i := range n {
			wg.Go(func() {
				email := "Same.Person@Example.com"
				if i%2 == 1 {
					email = strings.ToLower(email)
				}
				in := storetest.NewUser(email)
				in.Username = core.Username(fmt.Sprint("racer", i))
				users[i], errs[i] = s.CreateUser(t.Context(), in)
			})
		}
		wg.Wait()
		var winner core.User
		for i, err := range errs {
			switch {
			case err == nil && winner.ID == "":
				winner = users[i]
			case err == nil:
				t.Fatalf("both %s and %s registered the same email", winner.ID, users[i].ID)
			default:
				wantErrIs(t, err, core.ErrConflict)
			}
		}
		if winner.ID == "" {
			t.Fatal("no registration won")
		}
		var userItems, guards []map[string]any
		for _, it := range rawScan(t, client, tables.Users) {
			id := fmt.Sprint(it["user_id"])
			switch {
			case strings.HasPrefix(id, "VAH"):
				userItems = append(userItems, it)
			case strings.HasPrefix(id, "EMAIL#"):
				guards = append(guards, it)
			}
		}
		if len(userItems) != 1 || userItems[0]["user_id"] != winner.ID {
			t.Fatalf("user items %v, want only the winner %s", userItems, winner.ID)
		}
		if len(guards) != 1 || guards[0]["user_id"] != "EMAIL#same.person@example.com" || guards[0]["owner"] != winner.ID {
			t.Fatalf("guard items %v, want one for the winner %s", guards, winner.ID)
		}
	})

	t.Run("ConcurrentEmailChangesToOneAddressExactlyOneWins", func(t *testing.T) {
		t.Parallel()
		s, tables := MustOpen(t, client)
		const n = 8
		users := make([]core.User, n)
		for i := range users {
			users[i] = storetest.MustCreateUser(t, s, storetest.UniqueEmail("mover"))
		}
		target := core.Email(storetest.UniqueEmail("wanted"))
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i, u := range users {
			wg.Go(func() { _, errs[i] = s.UpdateUser(t.Context(), u.ID, core.UserPatch{Email: &target}) })
		}
		wg.Wait()
		winner := -1
		for i, err := range errs {
			switch {
			case err == nil && winner < 0:
				winner = i
			case err == nil:
				t.Fatalf("users %s and %s both took %s", users[winner].ID, users[i].ID, target)
			default:
				wantErrIs(t, err, core.ErrConflict)
			}
		}
		if winner < 0 {
			t.Fatal("no email change won")
		}
		guards := map[string]any{}
		for _, it := range rawScan(t, client, tables.Users) {
			if id := fmt.Sprint(it["user_id"]); strings.HasPrefix(id, "EMAIL#") {
				guards[strings.TrimPrefix(id, "EMAIL#")] = it["owner"]
			}
		}
		if len(guards) != n {
			t.Fatalf("%d guards for %d users: %v", len(guards), n, guards)
		}
		for i, u := range users {
			email := u.Email
			if i == winner {
				email = target
			}
			if guards[string(email.Key())] != u.ID {
				t.Errorf("guard of %s owned by %v, want %s", email, guards[string(email.Key())], u.ID)
			}
			got, err := s.GetUserByEmail(t.Context(), email.Key())
			if err != nil || got.ID != u.ID {
				t.Errorf("GetUserByEmail(%s) = %s, %v; want %s", email, got.ID, err, u.ID)
			}
		}
	})

	t.Run("ConcurrentTaskWritesKeepCountersEqualToARecount", func(t *testing.T) {
		t.Parallel()
		s, tables := MustOpen(t, client)
		u := storetest.MustCreateUser(t, s, storetest.UniqueEmail("busy"))
		shared := make([]core.Task, 4)
		for i := range shared {
			shared[i] = storetest.MustCreateTask(t, s, u.ID, fmt.Sprint("shared", i))
		}
		const workers = 8
		var wg sync.WaitGroup
		errs := make(chan error, workers*32)
		for w := range workers {
			wg.Go(func() {
				for i := range 6 {
					st := core.TaskStatuses[(w+i)%3]
					// Everyone moves the shared tasks around...
					if _, err := s.UpdateTask(t.Context(), u.ID, shared[(w+i)%len(shared)].ID, core.TaskPatch{Status: &st, UpdatedAt: time.Now()}); err != nil {
						errs <- fmt.Errorf("update shared: %w", err)
					}
					// ...and creates, moves and deletes their own.
					own := storetest.NewTask(t, u.ID, fmt.Sprintf("w%d-%d", w, i))
					if err := s.CreateTask(t.Context(), own, 0); err != nil {
						errs <- fmt.Errorf("create: %w", err)
						continue
					}
					if _, err := s.UpdateTask(t.Context(), u.ID, own.ID, core.TaskPatch{Status: &st, UpdatedAt: time.Now()}); err != nil {
						errs <- fmt.Errorf("update own: %w", err)
					}
					if i%2 == 0 {
						if _, err := s.DeleteTask(t.Context(), u.ID, own.ID); err != nil {
							errs <- fmt.Errorf("delete own: %w", err)
						}
					}
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
		got := recount(t, client, tables, u.ID)
		if got.Total() != len(shared)+workers*3 {
			t.Fatalf("%d tasks stored, want %d", got.Total(), len(shared)+workers*3)
		}
		if c := storedCounters(t, client, tables, u.ID); c != got {
			t.Fatalf("counters on the user item %+v, recount of the task items %+v", c, got)
		}
		stats, err := s.TaskStats(t.Context(), u.ID)
		if err != nil || stats != got {
			t.Fatalf("TaskStats = %+v, %v; recount %+v", stats, err, got)
		}
	})

	t.Run("CanceledTransactionsWriteNothing", func(t *testing.T) {
		t.Parallel()
		testCanceledTransactions(t, client)
	})

	t.Run("CreateTablesIsIdempotent", func(t *testing.T) {
		t.Parallel()
		testCreateTables(t, client)
	})

	t.Run("MissingTablesSayRunCreateTables", func(t *testing.T) {
		t.Parallel()
		tables := uniqueTables(t)
		s := dynamo.New(client, tables)
		_, err := s.GetUser(t.Context(), "VAH1")
		e, ok := core.AsError(err)
		if !ok || e.Code != core.CodeUnavailable || e.Err == nil {
			t.Fatalf("GetUser on missing tables: %v; a missing table is the operator's problem, not the client's (want unavailable: 503, with the cause logged)", err)
		}
		if cause := e.Err.Error(); !strings.Contains(cause, "taskapi create-tables") || !strings.Contains(cause, tables.Users) {
			t.Fatalf("GetUser on missing tables: cause %q, want a hint to run taskapi create-tables", cause)
		}
	})

	t.Run("RoundTrips", func(t *testing.T) {
		t.Parallel()
		testRoundTrips(t, endpoint)
	})
}

var (
	vahID   = regexp.MustCompile(`^VAH[1-9][0-9]*$`)
	rfc3339 = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$`)
)

func testItemLayout(t *testing.T, client *dynamodb.Client) {
	s, tables := MustOpen(t, client)
	svc := core.NewService(core.Config{
		Store: s, Hasher: core.NewHasher("", nil, 1),
		Tokens: core.NewTokens([]byte("test-secret-test-secret-test-secret"), time.Hour, nil), CursorSecret: []byte("c"),
	})
	u, err := svc.Register(t.Context(), core.RegisterInput{Username: "Layout", Email: "Layout.Check@Example.COM", Password: "s3cret!"})
	if err != nil {
		t.Fatalf("Register: %v", err)
	}
	task := storetest.MustCreateTask(t, s, u.ID, "layout")
	task = storetest.MustSetStatus(t, s, u.ID, task.ID, core.StatusOngoing)

	user := rawItem(t, client, tables.Users, map[string]string{"user_id": u.ID})
	if !vahID.MatchString(u.ID) {
		t.Errorf("user id %q, want VAH + a number", u.ID)
	}
	for name, want := range map[string]any{
		"user_id": u.ID, "username": "Layout", "email": "Layout.Check@example.com", "role": "user",
		"activation_status": "active", "pending_count": 0.0, "ongoing_count": 1.0, "complete_count": 0.0, "task_count": 1.0,
	} {
		if user[name] != want {
			t.Errorf("user item %s = %#v, want %#v", name, user[name], want)
		}
	}
	if p := fmt.Sprint(user["password"]); !strings.HasPrefix(p, "$argon2id$v=19$") {
		t.Errorf("password attribute %.12q..., want an argon2id PHC string", p)
	}
	if c := fmt.Sprint(user["created_at"]); !rfc3339.MatchString(c) {
		t.Errorf("created_at %q, want RFC 3339 in UTC", c)
	}

	guard := rawItem(t, client, tables.Users, map[string]string{"user_id": "EMAIL#layout.check@example.com"})
	if len(guard) != 2 || guard["owner"] != u.ID {
		t.Errorf("email guard item %v, want {user_id, owner: %s} and nothing else", guard, u.ID)
	}
	seq := rawItem(t, client, tables.Users, map[string]string{"user_id": "SEQUENCE#users"})
	if len(seq) != 2 || fmt.Sprint(seq["value"]) != strings.TrimPrefix(u.ID, "VAH") {
		t.Errorf("sequence item %v, want {user_id, value: %s}", seq, strings.TrimPrefix(u.ID, "VAH"))
	}

	// Only the user is in email-index: guard and sequence have no email.
	out, err := client.Scan(t.Context(), &dynamodb.ScanInput{TableName: &tables.Users, IndexName: aws.String(dynamo.EmailIndex)})
	if err != nil {
		t.Fatalf("scan %s: %v", dynamo.EmailIndex, err)
	}
	if len(out.Items) != 1 {
		t.Errorf("%s holds %d items, want only the user", dynamo.EmailIndex, len(out.Items))
	}

	item := rawItem(t, client, tables.Tasks, map[string]string{"user_id": u.ID, "task_id": task.ID})
	for name, want := range map[string]any{
		"user_id": u.ID, "task_id": task.ID, "title": "layout", "description": string(task.Description),
		"status": "ongoing", "status_task_id": "ongoing#" + task.ID,
		"updated_key": core.TaskKey(task, core.OrderUpdatedAt), "due_key": "~" + task.ID,
		"user_status": u.ID + "#ongoing", "search_text": core.SearchText(task),
	} {
		if item[name] != want {
			t.Errorf("task item %s = %#v, want %#v", name, item[name], want)
		}
	}
	for _, name := range []string{"created_at", "updated_at"} {
		if v := fmt.Sprint(item[name]); !rfc3339.MatchString(v) {
			t.Errorf("task %s %q, want RFC 3339 in UTC", name, v)
		}
	}
	if len(item) != 12 {
		t.Errorf("task item has %d attributes (%v), want 12", len(item), item)
	}
}

func testCanceledTransactions(t *testing.T, client *dynamodb.Client) {
	s, tables := MustOpen(t, client)
	owner := storetest.MustCreateUser(t, s, storetest.UniqueEmail("owner"))
	other := storetest.MustCreateUser(t, s, storetest.UniqueEmail("other"))
	task := storetest.MustCreateTask(t, s, owner.ID, "kept")

	t.Run("TaskOfAnUnknownUserIsNotStored", func(t *testing.T) {
		ghost := storetest.NewTask(t, "VAH999999", "orphan")
		wantErrIs(t, s.CreateTask(t.Context(), ghost, 0), core.ErrNotFound)
		if it := rawItem(t, client, tables.Tasks, map[string]string{"user_id": ghost.UserID, "task_id": ghost.ID}); it != nil {
			t.Fatalf("the task was stored although its counter update failed: %v", it)
		}
		if it := rawItem(t, client, tables.Users, map[string]string{"user_id": ghost.UserID}); it != nil {
			t.Fatalf("a counter item appeared for an unknown user: %v", it)
		}
	})

	t.Run("DuplicateEmailStoresNoUser", func(t *testing.T) {
		before := len(rawScan(t, client, tables.Users))
		_, err := s.CreateUser(t.Context(), storetest.NewUser(string(other.Email)))
		wantErrIs(t, err, core.ErrConflict)
		after := rawScan(t, client, tables.Users)
		// Only the sequence moved (a burned number); no user, no guard.
		if len(after) != before {
			t.Fatalf("%d items after a refused registration, %d before", len(after), before)
		}
	})

	t.Run("TakenEmailLeavesUserAndGuardsAlone", func(t *testing.T) {
		changed := core.Username("changed")
		_, err := s.UpdateUser(t.Context(), owner.ID, core.UserPatch{Email: &other.Email, Username: &changed})
		wantErrIs(t, err, core.ErrConflict)
		u := rawItem(t, client, tables.Users, map[string]string{"user_id": owner.ID})
		if u["username"] != string(owner.Username) || u["email"] != string(owner.Email) {
			t.Fatalf("user changed by a refused update: %v", u)
		}
		if g := rawItem(t, client, tables.Users, map[string]string{"user_id": "EMAIL#" + string(owner.Email.Key())}); g["owner"] != owner.ID {
			t.Fatalf("own guard %v after a refused update", g)
		}
		if g := rawItem(t, client, tables.Users, map[string]string{"user_id": "EMAIL#" + string(other.Email.Key())}); g["owner"] != other.ID {
			t.Fatalf("other's guard %v after a refused update", g)
		}
	})

	t.Run("FailedCounterUpdateLeavesTheTaskUnmoved", func(t *testing.T) {
		// Make the second item of the status move fail: hide the user item.
		key := map[string]types.AttributeValue{"user_id": &types.AttributeValueMemberS{Value: owner.ID}}
		saved, err := client.GetItem(t.Context(), &dynamodb.GetItemInput{TableName: &tables.Users, Key: key, ConsistentRead: aws.Bool(true)})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := client.DeleteItem(t.Context(), &dynamodb.DeleteItemInput{TableName: &tables.Users, Key: key}); err != nil {
			t.Fatal(err)
		}
		st := core.StatusComplete
		moved := core.Title("moved")
		_, err = s.UpdateTask(t.Context(), owner.ID, task.ID, core.TaskPatch{Status: &st, Title: &moved, UpdatedAt: time.Now()})
		if err == nil {
			t.Fatal("status move without a counter to move succeeded")
		}
		it := rawItem(t, client, tables.Tasks, map[string]string{"user_id": owner.ID, "task_id": task.ID})
		if it["status"] != "pending" || it["status_task_id"] != "pending#"+task.ID || it["title"] != "kept" {
			t.Fatalf("task half-written by a canceled transaction: %v", it)
		}
		if _, err := client.PutItem(t.Context(), &dynamodb.PutItemInput{TableName: &tables.Users, Item: saved.Item}); err != nil {
			t.Fatal(err)
		}
		if c := storedCounters(t, client, tables, owner.ID); c != (core.TaskStats{}.Add(core.StatusPending, 1)) {
			t.Fatalf("counters %+v, want one pending", c)
		}
	})
}

// taskIndexes are the tasks table's GSIs, sorted.
var taskIndexes = slices.Sorted(slices.Values([]string{
	dynamo.StatusIndex, dynamo.UpdatedIndex, dynamo.DueIndex, dynamo.StatusUpdatedIndex, dynamo.StatusDueIndex,
}))

// indexNames returns the names of d's ACTIVE indexes that project proj,
// sorted.
func indexNames(d *types.TableDescription, proj types.ProjectionType) []string {
	var names []string
	for _, g := range d.GlobalSecondaryIndexes {
		if g.IndexStatus == types.IndexStatusActive && g.Projection.ProjectionType == proj {
			names = append(names, aws.ToString(g.IndexName))
		}
	}
	slices.Sort(names)
	return names
}

func testCreateTables(t *testing.T, client *dynamodb.Client) {
	t.Run("TwiceIsOK", func(t *testing.T) {
		s, tables := MustOpen(t, client)
		if err := s.CreateTables(t.Context()); err != nil {
			t.Fatalf("second CreateTables: %v", err)
		}
		for table, want := range map[string][]string{tables.Users: {dynamo.EmailIndex}, tables.Tasks: taskIndexes} {
			out, err := client.DescribeTable(t.Context(), &dynamodb.DescribeTableInput{TableName: &table})
			if err != nil {
				t.Fatal(err)
			}
			d := out.Table
			if d.BillingModeSummary == nil || d.BillingModeSummary.BillingMode != types.BillingModePayPerRequest {
				t.Errorf("%s billing %+v, want PAY_PER_REQUEST", table, d.BillingModeSummary)
			}
			if got := indexNames(d, types.ProjectionTypeAll); !slices.Equal(got, want) {
				t.Errorf("%s indexes %v (ACTIVE, projecting ALL), want %v", table, got, want)
			}
		}
	})

	t.Run("AddsTheMissingIndexes", func(t *testing.T) {
		tables := uniqueTables(t)
		dropTables(t, client, tables)
		// A tasks table as the legacy app made it: keys only.
		_, err := client.CreateTable(t.Context(), &dynamodb.CreateTableInput{
			TableName: &tables.Tasks,
			AttributeDefinitions: []types.AttributeDefinition{
				{AttributeName: aws.String("user_id"), AttributeType: types.ScalarAttributeTypeS},
				{AttributeName: aws.String("task_id"), AttributeType: types.ScalarAttributeTypeS},
			},
			KeySchema: []types.KeySchemaElement{
				{AttributeName: aws.String("user_id"), KeyType: types.KeyTypeHash},
				{AttributeName: aws.String("task_id"), KeyType: types.KeyTypeRange},
			},
			BillingMode: types.BillingModePayPerRequest,
		})
		if err != nil {
			t.Fatal(err)
		}
		s := dynamo.New(client, tables)
		if err := s.CreateTables(t.Context()); err != nil {
			t.Fatalf("CreateTables over a legacy tasks table: %v", err)
		}
		out, err := client.DescribeTable(t.Context(), &dynamodb.DescribeTableInput{TableName: &tables.Tasks})
		if err != nil {
			t.Fatal(err)
		}
		if got := indexNames(out.Table, types.ProjectionTypeAll); !slices.Equal(got, taskIndexes) {
			t.Fatalf("indexes %v (ACTIVE, projecting ALL), want %v", got, taskIndexes)
		}
		u := storetest.MustCreateUser(t, s, storetest.UniqueEmail("legacy"))
		tk := storetest.MustCreateTask(t, s, u.ID, "indexed")
		got, _, err := s.ListTasks(t.Context(), u.ID, core.TaskQuery{Status: &tk.Status, Limit: 5})
		if err != nil || len(got) != 1 || got[0].ID != tk.ID {
			t.Fatalf("ListTasks(pending) = %v, %v; want [%s]", got, err, tk.ID)
		}
	})

	t.Run("AnotherKeySchemaIsAnError", func(t *testing.T) {
		tables := uniqueTables(t)
		dropTables(t, client, tables)
		_, err := client.CreateTable(t.Context(), &dynamodb.CreateTableInput{
			TableName:            &tables.Users,
			AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("id"), AttributeType: types.ScalarAttributeTypeS}},
			KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String("id"), KeyType: types.KeyTypeHash}},
			BillingMode:          types.BillingModePayPerRequest,
		})
		if err != nil {
			t.Fatal(err)
		}
		err = dynamo.New(client, tables).CreateTables(t.Context())
		if err == nil || !strings.Contains(err.Error(), "another key schema") {
			t.Fatalf("CreateTables over a foreign table: %v, want a key schema error", err)
		}
	})
}
