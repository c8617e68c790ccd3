package cache

import (
	"encoding/json"
	"sync"
	"time"

	"github.com/taskapi/taskapi/core"
)

// The cached JSON has its own field names, so renaming a core field never
// silently changes what old entries decode to. Change the shapes only
// together with DefaultNamespace's "v1".

// entry is every cached value: the version of its scope it was read under,
// when the read from the store started (Unix ms), and the data.
type entry[T any] struct {
	Ver  string `json:"v"`
	At   int64  `json:"at"`
	Data T      `json:"d"`
}

type userJSON struct {
	ID               string    `json:"id"`
	Username         string    `json:"username"`
	Email            string    `json:"email"`
	Role             string    `json:"role"`
	ActivationStatus string    `json:"activation_status"`
	CreatedAt        time.Time `json:"created_at"`
	Sessions         string    `json:"sessions,omitempty"`
	DeletedAt        time.Time `json:"deleted_at,omitzero"`
	PasswordReset    bool      `json:"password_reset_required,omitempty"`
	DuplicateEmail   bool      `json:"duplicate_email,omitempty"`
}

func toUserJSON(u core.User) userJSON {
	return userJSON{
		ID:               u.ID,
		Username:         string(u.Username),
		Email:            string(u.Email),
		Role:             string(u.Role),
		ActivationStatus: string(u.ActivationStatus),
		CreatedAt:        u.CreatedAt,
		Sessions:         u.Sessions.Encode(),
		DeletedAt:        u.DeletedAt,
		PasswordReset:    u.NeedsPasswordReset,
		DuplicateEmail:   u.DuplicateEmail,
	}
}

func (u userJSON) user() core.User {
	return core.User{
		ID:                 u.ID,
		Username:           core.Username(u.Username),
		Email:              core.Email(u.Email),
		Role:               core.Role(u.Role),
		ActivationStatus:   core.ActivationStatus(u.ActivationStatus),
		CreatedAt:          u.CreatedAt,
		Sessions:           core.SessionSetOf(u.Sessions),
		DeletedAt:          u.DeletedAt,
		NeedsPasswordReset: u.PasswordReset,
		DuplicateEmail:     u.DuplicateEmail,
	}
}

type taskJSON struct {
	ID          string     `json:"id"`
	UserID      string     `json:"user_id"`
	Title       string     `json:"title"`
	Description string     `json:"description"`
	Status      string     `json:"status"`
	CreatedAt   time.Time  `json:"created_at"`
	UpdatedAt   time.Time  `json:"updated_at"`
	DueDate     *time.Time `json:"due_date,omitempty"`
}

// pageJSON is one ListTasks result.
type pageJSON struct {
	Tasks []taskJSON `json:"tasks"`
	More  bool       `json:"more"`
}

func toPageJSON(tasks []core.Task, more bool) pageJSON {
	p := pageJSON{Tasks: make([]taskJSON, len(tasks)), More: more}
	for i, t := range tasks {
		p.Tasks[i] = taskJSON{
			ID:          t.ID,
			UserID:      t.UserID,
			Title:       string(t.Title),
			Description: string(t.Description),
			Status:      string(t.Status),
			CreatedAt:   t.CreatedAt,
			UpdatedAt:   t.UpdatedAt,
			DueDate:     t.DueDate,
		}
	}
	return p
}

func (p pageJSON) tasks() []core.Task {
	out := make([]core.Task, len(p.Tasks))
	for i, t := range p.Tasks {
		out[i] = core.Task{
			ID:          t.ID,
			UserID:      t.UserID,
			Title:       core.Title(t.Title),
			Description: core.Description(t.Description),
			Status:      core.TaskStatus(t.Status),
			CreatedAt:   t.CreatedAt,
			UpdatedAt:   t.UpdatedAt,
			DueDate:     t.DueDate,
		}
	}
	return out
}

type statsJSON struct {
	Pending  int `json:"pending"`
	Ongoing  int `json:"ongoing"`
	Complete int `json:"complete"`
}

func toStatsJSON(s core.TaskStats) statsJSON {
	return statsJSON{Pending: s.Pending(), Ongoing: s.Ongoing(), Complete: s.Complete()}
}

func (s statsJSON) stats() core.TaskStats {
	return core.TaskStats{}.Add(core.StatusPending, s.Pending).Add(core.StatusOngoing, s.Ongoing).Add(core.StatusComplete, s.Complete)
}

// maxDecoded bounds a decoded memo (entries of a few hundred bytes each).
const maxDecoded = 4096

// decoded remembers what raw entries decoded to: every authenticated
// request reads its user's entry, and the same bytes decode to the same
// value, so decoding them again is waste. A nil memo decodes every time.
type decoded[T any] struct {
	mu sync.Mutex
	m  map[string]entry[T]
}

// decode returns what raw decodes to, or false if it is not an entry.
func (d *decoded[T]) decode(raw string) (entry[T], bool) {
	if d != nil {
		d.mu.Lock()
		e, ok := d.m[raw]
		d.mu.Unlock()
		if ok {
			return e, true
		}
	}
	var e entry[T]
	if json.Unmarshal([]byte(raw), &e) != nil {
		return e, false
	}
	if d != nil {
		d.mu.Lock()
		if d.m == nil || len(d.m) >= maxDecoded {
			d.m = make(map[string]entry[T], 64) // simpler than an LRU; refilled by the next requests
		}
		d.m[raw] = e
		d.mu.Unlock()
	}
	return e, true
}
