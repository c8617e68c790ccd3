// Package bench holds taskapi's performance suite: Go benchmarks of the hot
// paths (go test -bench . -benchmem ./bench/), the allocation-regression
// test that plain go test runs, and, under bench/suite, the load-test
// program behind scripts/bench.sh that writes docs/performance.md.
package bench
