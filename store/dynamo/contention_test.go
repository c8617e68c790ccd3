package dynamo_test

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/taskapi/taskapi/core"
	"github.com/taskapi/taskapi/internal/testenv"
	"github.com/taskapi/taskapi/store/storetest"
)

// TestContendedStatusChanges: many clients moving one task between
// statuses at once (each a read, then a transaction conditioned on what was
// read) mostly succeed: the store retries a lost race after a jittered
// pause. At 20 at once none fails; at 200 at most 5 % answer 503, and the
// counters stay exact either way.
func TestContendedStatusChanges(t *testing.T) {
	if testing.Short() {
		t.Skip("200 concurrent writers")
	}
	client := newClient(t, testenv.DynamoDB(t), nil)
	s, _ := MustOpen(t, client)
	for _, c := range []struct {
		writers int
		maxFail float64
	}{{20, 0}, {200, 0.05}} {
		t.Run(fmt.Sprint(c.writers), func(t *testing.T) {
			u := storetest.MustCreateUser(t, s, storetest.UniqueEmail("contended"))
			task := storetest.MustCreateTask(t, s, u.ID, "contended")
			var (
				wg     sync.WaitGroup
				mu     sync.Mutex
				failed int
				other  []error
			)
			start := make(chan struct{})
			for i := range c.writers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					<-start
					st := core.TaskStatuses[i%len(core.TaskStatuses)]
					_, err := s.UpdateTask(t.Context(), u.ID, task.ID, core.TaskPatch{Status: &st, UpdatedAt: time.Now().UTC()})
					mu.Lock()
					defer mu.Unlock()
					switch {
					case errors.Is(err, core.ErrUnavailable):
						if failed == 0 {
							e, _ := core.AsError(err)
							t.Logf("first failure: %v", e.Err)
						}
						failed++
					case err != nil:
						other = append(other, err)
					}
				}()
			}
			close(start)
			wg.Wait()
			if len(other) > 0 {
				t.Fatalf("%d other errors, e.g. %v", len(other), other[0])
			}
			rate := float64(failed) / float64(c.writers)
			t.Logf("%d writers: %d answered unavailable (%.1f %%)", c.writers, failed, 100*rate)
			if rate > c.maxFail {
				t.Errorf("%.1f %% failed, want at most %.0f %%", 100*rate, 100*c.maxFail)
			}
			final, err := s.GetTask(t.Context(), u.ID, task.ID)
			if err != nil {
				t.Fatal(err)
			}
			st, err := s.TaskStats(t.Context(), u.ID)
			if err != nil || st.Total() != 1 || st.Count(final.Status) != 1 {
				t.Fatalf("stats %+v (%v) for one task in %s", st, err, final.Status)
			}
		})
	}
}
