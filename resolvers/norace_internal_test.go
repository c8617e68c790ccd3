//go:build !race

package resolvers

const raceSlowdown = 1
