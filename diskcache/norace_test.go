//go:build !race

package diskcache

const raceSlowdown = 1
