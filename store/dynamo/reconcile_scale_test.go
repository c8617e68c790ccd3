package dynamo_test

import (
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/taskapi/taskapi/internal/legacytest"
	"github.com/taskapi/taskapi/internal/testenv"
	"github.com/taskapi/taskapi/store/dynamo"
)

// TestMigrationScale measures migrate-legacy's data work on DynamoDB Local
// for TASKAPI_BENCH_MIGRATION_USERS users (default 10,000) with 10 tasks
// each. It is a measurement, not a check: scripts/bench.sh runs it
// (TASKAPI_BENCH_MIGRATION=1) and docs/migration.md reports it.
func TestMigrationScale(t *testing.T) {
	if os.Getenv("TASKAPI_BENCH_MIGRATION") != "1" {
		t.Skip("a measurement: scripts/bench.sh runs it with TASKAPI_BENCH_MIGRATION=1")
	}
	users := 10_000
	if n, err := strconv.Atoi(os.Getenv("TASKAPI_BENCH_MIGRATION_USERS")); err == nil && n > 0 {
		users = n
	}
	client := newClient(t, testenv.DynamoDB(t), nil)
	tables := uniqueTables(t)
	dropTables(t, client, tables)
	if err := legacytest.CreateTables(t.Context(), client, tables.Users, tables.Tasks); err != nil {
		t.Fatal(err)
	}
	began := time.Now()
	if err := legacytest.WriteMany(t.Context(), client, tables.Users, tables.Tasks, users, 10); err != nil {
		t.Fatal(err)
	}
	t.Logf("fixture: %d users, %d tasks written in %v", users, users*10, time.Since(began).Round(time.Millisecond))
	s := dynamo.New(client, tables)
	began = time.Now()
	if err := s.CreateTables(t.Context()); err != nil {
		t.Fatal(err)
	}
	t.Logf("create-tables (status-index on the tasks): %v", time.Since(began).Round(time.Millisecond))
	began = time.Now()
	r, err := s.Reconcile(t.Context(), dynamo.ReconcileOptions{Legacy: true, Convert: fakeConvert})
	if err != nil {
		t.Fatal(err)
	}
	d := time.Since(began)
	t.Logf("migrate-legacy (passwords hashed by a stand-in): %v for %d users and %d tasks: %.0f items/s; %d writes",
		d.Round(time.Millisecond), r.Users, r.Tasks, float64(r.Users+r.Tasks)/d.Seconds(), r.Changes)
	began = time.Now()
	problems, _, err := s.Audit(t.Context(), false, nil)
	if err != nil || problems != 0 {
		t.Fatalf("verify: %d problems, %v", problems, err)
	}
	t.Logf("verify: %v", time.Since(began).Round(time.Millisecond))
}
