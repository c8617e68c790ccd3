//go:build race

package hardening_test

// raceEnabled: the race detector makes code 5-10 times slower; bounds on
// CPU time are scaled by it.
const raceEnabled = true
