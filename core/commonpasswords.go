package core

import (
	_ "embed"
	"strings"
	"sync"
)

//go:generate go run ./internal/gencommon

// commonPasswordList is the 10,000 most common passwords, one per line
// (generated: see internal/gencommon).
//
//go:embed commonpasswords.txt
var commonPasswordList string

// commonPasswords is built on first use, so a cold start that never checks
// a password pays nothing for it.
var commonPasswords = sync.OnceValue(func() map[string]struct{} {
	set := make(map[string]struct{}, 10_000)
	for line := range strings.Lines(commonPasswordList) {
		set[strings.TrimRight(line, "\n")] = struct{}{}
	}
	return set
})

// isCommonPassword reports whether p, ignoring case, is on the list.
func isCommonPassword(p string) bool {
	_, ok := commonPasswords()[strings.ToLower(p)]
	return ok
}
