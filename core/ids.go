package core

import (
	"context"
	"strconv"
	"strings"
	"sync"

	"github.com/google/uuid"
)

// userIDPrefix starts every user id; the number of a sequence follows.
const userIDPrefix = "VAH"

// UserID is the id of user number n.
func UserID(n uint64) string { return userIDPrefix + strconv.FormatUint(n, 10) }

// ParseUserID returns the number in a user id, or false for anything that
// is not one ("VAH" and a number without leading zeros).
func ParseUserID(id string) (uint64, bool) {
	digits, ok := strings.CutPrefix(id, userIDPrefix)
	if !ok || digits == "" || digits[0] == '0' || digits[0] == '+' {
		return 0, false
	}
	n, err := strconv.ParseUint(digits, 10, 64)
	return n, err == nil
}

// ParseTaskID returns a task id in its canonical form (a lowercase UUID),
// or false for anything that is not one.
func ParseTaskID(id string) (string, bool) {
	u, err := uuid.Parse(strings.TrimSpace(id))
	if err != nil {
		return "", false
	}
	return u.String(), true
}

// userNumbers hands out user numbers from blocks reserved in the store
// (the hi/lo pattern): one store round trip per block instead of one per
// registration. Numbers of a block this process never uses are gaps in the
// sequence; ids stay unique and increase within each process.
type userNumbers struct {
	block int

	mu         sync.Mutex
	next, stop uint64 // the current block is [next, stop)
}

func (n *userNumbers) take(ctx context.Context, s Store) (uint64, error) {
	if n.block <= 1 { // no block to share: no need to queue behind each other
		return s.ReserveUserNumbers(ctx, 1)
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.next == n.stop {
		first, err := s.ReserveUserNumbers(ctx, n.block)
		if err != nil {
			return 0, err
		}
		n.next, n.stop = first, first+uint64(n.block)
	}
	v := n.next
	n.next++
	return v, nil
}
