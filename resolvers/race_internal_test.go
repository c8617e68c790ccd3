//go:build race

package resolvers

// raceSlowdown scales time bounds: the race detector makes code 5-10 times
// slower.
const raceSlowdown = 10
