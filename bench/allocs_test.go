package bench_test

import "testing"

// allocBudgets are the allocations per request of the hot paths, measured
// when this test was written (go test, and under -race), with headroom:
// about twice the higher of the two. A change that makes one of them
// allocate much more per request, which costs throughput on every request,
// fails here; a faster machine or a busy one does not.
var allocBudgets = []struct {
	name     string
	kind     storeKind
	req      request
	measured string // plain / -race, for the record
	budget   float64
}{
	// The embedded store, uncached: decoding 20 records, encoding 20 tasks.
	{"RESTFetchTask", uncached, restFetchTask, "411 / 438", 850},
	// gqlgen: a field context (and a goroutine per list element) per field.
	{"GraphQLTasks20", uncached, graphqlTasks, "2935 / 3049", 6000},
	// A response-cache hit: authentication, the version, the stored bytes.
	{"RESTFetchTaskResponseCached", versioned, restFetchTask, "76 / 84", 170},
	{"GraphQLTasks20ResponseCached", versioned, graphqlTasks, "129 / 138", 280},
}

func TestAllocsPerRequest(t *testing.T) {
	for _, c := range allocBudgets {
		t.Run(c.name, func(t *testing.T) {
			e := newEnv(t, c.kind, 20)
			e.do(t, c.req)
			got := testing.AllocsPerRun(50, func() { e.do(t, c.req) })
			t.Logf("%s: %.0f allocs per request (budget %.0f)", c.name, got, c.budget)
			if got > c.budget {
				t.Errorf("%s allocates %.0f times per request, over its budget of %.0f (about twice what it did): find what allocates (go test -bench %s -benchmem -memprofile) or, if it is worth it, raise the budget", c.name, got, c.budget, c.name)
			}
		})
	}
}
