package embedded_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/taskapi/taskapi/core"
	"github.com/taskapi/taskapi/store/storetest"
)

// BenchmarkCountTasks counts a search's matches among 10,000 tasks: the
// cost of a searched list's totalCount.
func BenchmarkCountTasks(b *testing.B) {
	s := openTemp(b)
	u := storetest.MustCreateUser(b, s, storetest.UniqueEmail("count"))
	created := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range 10_000 {
		t := core.Task{ID: fmt.Sprintf("0190a000-0000-7000-8000-%012d", i), UserID: u.ID, Title: core.Title(fmt.Sprintf("Task number %d", i)),
			Description: "Something to do, described in a sentence or two so the payload looks real.",
			Status:      core.TaskStatuses[i%3], CreatedAt: created, UpdatedAt: created}
		if err := s.CreateTask(b.Context(), t, 0); err != nil {
			b.Fatal(err)
		}
	}
	b.ResetTimer()
	for b.Loop() {
		if _, err := s.CountTasks(b.Context(), u.ID, nil, "number 1"); err != nil {
			b.Fatal(err)
		}
	}
}
