package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/taskapi/taskapi/core"
)

// report is everything one run measured.
type report struct {
	machine, loadBefore, loadAfter string
	quick                          bool
	elapsed                        time.Duration
	rows                           []cmpRow
	rss                            []rssRow
	sizes                          []string
	ddbNote, rieNote               string
	login                          *loginReport
	sizes2                         []int
	scale                          []*scaleRow
	scaleRounds                    int // rounds each scaling figure is the median of
	cold                           []coldRow
	coldFloors                     []coldRow // hello with taskapi's heaviest libraries linked
	goBench                        []goBench
	goBenchCmd                     string
}

// Targets of issue 7, as ratios to what the same run measured.
const (
	targetREST     = 0.5
	targetGraphQL  = 0.25
	targetStats    = 1.2
	targetRSS      = 60 << 20
	targetColdStar = 2.0
)

const (
	beginMark = "<!-- bench:results:begin (written by scripts/bench.sh; edit outside these marks) -->"
	endMark   = "<!-- bench:results:end -->"
)

// write puts the results between the marks of docs/performance.md (the
// prose around them is kept) and draws docs/performance.png.
func (s *suite) write() error {
	if err := os.MkdirAll(s.out, 0o755); err != nil {
		return err
	}
	png := filepath.Join(s.out, "performance.png")
	if err := os.WriteFile(png, s.rep.plot(), 0o644); err != nil {
		return err
	}
	md := filepath.Join(s.out, "performance.md")
	doc, err := os.ReadFile(md)
	if err != nil && !os.IsNotExist(err) {
		return err
	}
	body := s.rep.markdown()
	var out []byte
	i, j := bytes.Index(doc, []byte(beginMark)), bytes.Index(doc, []byte(endMark))
	if i >= 0 && j > i {
		out = append(append(append([]byte{}, doc[:i+len(beginMark)]...), "\n"+body...), doc[j:]...)
	} else {
		out = []byte("# Performance\n\n" + beginMark + "\n" + body + endMark + "\n")
	}
	if err := os.WriteFile(md, out, 0o644); err != nil {
		return err
	}
	s.logf("wrote %s and %s", md, png)
	return nil
}

func yes(ok bool) string {
	if ok {
		return "yes"
	}
	return "**no**"
}

func (r *report) markdown() string {
	var b strings.Builder
	p := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	mode := "full run (`scripts/bench.sh`)"
	if r.quick {
		mode = "quick run (`scripts/bench.sh -quick`: shorter, fewer repetitions)"
	}
	p("\n_Measured %s on %s; %s in %s. Load average (1, 5, 15 min) %s before, %s after: the machine is shared, so read ratios to the baseline of the same run, not absolute numbers._\n\n",
		time.Now().UTC().Format("2006-01-02 15:04 MST"), r.machine, mode, r.elapsed.Round(time.Second), r.loadBefore, r.loadAfter)

	p("### Targets\n\n| Target | Measured | Met |\n|---|---|---|\n")
	for _, t := range r.targets() {
		p("| %s | %s | %s |\n", t[0], t[1], t[2])
	}

	p("\n### Throughput and latency against the baseline\n\n")
	p("Each row: wrk, one thread, for the given number of connections (clients), against taskapi and then against the baseline (`bench/baseline`, plain net/http answering with the bytes taskapi answered, headers included). Response sizes: %s. Round trips are counted over 50 sequential requests once warm (Redis: `INFO stats`; DynamoDB: a counting proxy).\n\n", strings.Join(r.sizes, "; "))
	p("![throughput ratio to the baseline, and latency by task count](performance.png)\n\n")
	p("| Store | Request | Clients | taskapi req/s | baseline req/s | ratio | taskapi p50 / p99 | baseline p50 / p99 | round trips per request |\n|---|---|--:|--:|--:|--:|--:|--:|---|\n")
	for _, row := range r.rows {
		target := targetGraphQL
		if row.Endpoint == restFetch.name {
			target = targetREST
		}
		p("| %s | %s | %d | %.0f | %.0f | **%s** | %s / %s | %s / %s | %s |\n", row.Config, row.Endpoint, row.Conns,
			row.Taskapi.RPS, row.Base.RPS, fmtRatio(row.ratio(), target), fmtDur(row.Taskapi.P50), fmtDur(row.Taskapi.P99), fmtDur(row.Base.P50), fmtDur(row.Base.P99), row.RoundTrips)
		if row.Taskapi.Bad > 0 {
			p("| | ⚠ %d failed requests | | | | | | | |\n", row.Taskapi.Bad)
		}
	}
	if r.ddbNote != "" {
		p("\nDynamoDB Local was not measured: %s.\n", r.ddbNote)
	}

	if l := r.login; l != nil {
		p("\n### Logins\n\n")
		bound := l.HashMax * float64(core.DefaultHashConcurrency()) / float64(ncpu())
		p("One argon2id hash (19 MiB, 2 passes) takes %s on one core here, so %d cores allow at most **%.0f logins/s**; taskapi hashes at most %d at a time (`core.DefaultHashConcurrency`: half the CPUs), which bounds it to %.0f logins/s and leaves the rest to reads. ",
			fmtDur(l.HashTime), ncpu(), l.HashMax, core.DefaultHashConcurrency(), bound)
		p("16 clients logging in got **%.0f logins/s** (%.0f %% of the hash-bound maximum, %.0f %% of taskapi's own bound), p50 %s, p99 %s.\n\n",
			l.Login.RPS, 100*l.Login.RPS/l.HashMax, 100*l.Login.RPS/bound, fmtDur(l.Login.P50), fmtDur(l.Login.P99))
		p("A login storm (32 clients logging in) against 16 clients reading `fetch-task`, embedded store:\n\n")
		p("| | reads req/s | reads p50 | reads p99 | logins/s | RSS |\n|---|--:|--:|--:|--:|--:|\n")
		p("| reads alone | %.0f | %s | %s | – | %s |\n", l.ReadsAlone.RPS, fmtDur(l.ReadsAlone.P50), fmtDur(l.ReadsAlone.P99), mib(l.RSSBefore))
		p("| reads during the storm | %.0f | %s | %s | %.0f | %s (peak %s) |\n", l.ReadsInStorm.RPS, fmtDur(l.ReadsInStorm.P50), fmtDur(l.ReadsInStorm.P99), l.LoginsInStorm.RPS, mib(l.RSSAfter), mib(l.Peak))
	}

	if len(r.scale) > 0 {
		p("\n### How cost grows with one user's tasks\n\nOne client (wrk -c1), embedded store, no cache: p50 latency (and req/s), the best of %d rounds in which every size is measured in turn.\n\n| Request |", r.scaleRounds)
		for _, n := range r.sizes2 {
			p(" %s tasks |", thousands(n))
		}
		p(" largest / smallest |\n|---|")
		for range r.sizes2 {
			p("--:|")
		}
		p("--:|\n")
		for _, row := range r.scale {
			p("| %s |", row.Endpoint)
			for _, n := range r.sizes2 {
				p(" %s (%.0f/s) |", fmtDur(row.P50[n]), row.RPS[n])
			}
			lo, hi := row.P50[r.sizes2[0]], row.P50[r.sizes2[len(r.sizes2)-1]]
			p(" %.2f× |\n", float64(hi)/float64(max(lo, 1)))
		}
	}

	if len(r.cold) > 0 {
		p("\n### Cold start\n\nMedian (fastest) of the runs; hello is `bench/hello`, a Go program that only answers 200, built like taskapi.\n\n| | taskapi | hello world | ratio |\n|---|--:|--:|--:|\n")
		for _, c := range r.cold {
			p("| %s | %s (%s) | %s (%s) | %.2f× |\n", c.What, fmtDur(median(c.Taskapi)), fmtDur(minDur(c.Taskapi)), fmtDur(median(c.Base)), fmtDur(minDur(c.Base)), float64(median(c.Taskapi))/float64(max(median(c.Base), 1)))
		}
		if r.rieNote != "" {
			p("\nThe Lambda cold start was not measured: %s.\n", r.rieNote)
		}
		if len(r.coldFloors) > 0 {
			p("\nThe floor: `bench/hello` built with only some of the libraries taskapi links (`-tags hello_sdk`, `hello_gql`, `hello_deps`; blank imports, so nothing of theirs runs but their package initialization), exec → first 200, each against hello in the same loop:\n\n| | median (fastest) | hello world | ratio |\n|---|--:|--:|--:|\n")
			for _, c := range r.coldFloors {
				p("| %s | %s (%s) | %s (%s) | %.2f× |\n", c.What, fmtDur(median(c.Taskapi)), fmtDur(minDur(c.Taskapi)), fmtDur(median(c.Base)), fmtDur(minDur(c.Base)), float64(median(c.Taskapi))/float64(max(median(c.Base), 1)))
			}
		}
	}

	if len(r.rss) > 0 {
		p("\n### Memory after load\n\n| Store | RSS after the load above | peak RSS |\n|---|--:|--:|\n")
		for _, m := range r.rss {
			p("| %s | %s | %s |\n", m.Config, mib(m.RSS), mib(m.Peak))
		}
	}

	if len(r.goBench) > 0 {
		p("\n### Allocations per request (Go benchmarks)\n\n`%s`: in process, through the whole HTTP handler (`server.New`), no network.\n\n| Benchmark | µs/op | B/op | allocs/op |\n|---|--:|--:|--:|\n", r.goBenchCmd)
		for _, g := range r.goBench {
			p("| %s | %.1f | %.0f | %.0f |\n", g.Name, g.NsOp/1000, g.BOp, g.AllocsOp)
		}
	}
	return b.String()
}

func minDur(ds []time.Duration) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	m := ds[0]
	for _, d := range ds {
		m = min(m, d)
	}
	return m
}

// fmtRatio prints v with two decimals, or three where two would round it
// across target.
func fmtRatio(v, target float64) string {
	if (v < target) != (float64(int(v*100+0.5))/100 < target) {
		return fmt.Sprintf("%.3f", v)
	}
	return fmt.Sprintf("%.2f", v)
}

func thousands(n int) string {
	s := fmt.Sprint(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// targets returns [target, measured, met] for each of issue 7's targets.
func (r *report) targets() [][3]string {
	var out [][3]string
	ratioTarget := func(endpoint string, target float64) {
		var parts []string
		n, met := 0, 0
		for _, row := range r.rows {
			if row.Endpoint != endpoint || !strings.Contains(row.Config, "warm") {
				continue
			}
			n++
			if row.ratio() >= target {
				met++
			}
			parts = append(parts, fmt.Sprintf("%s (%s, %d clients)", fmtRatio(row.ratio(), target), strings.TrimSuffix(row.Config, " (warm cache)"), row.Conns))
		}
		if n == 0 {
			return
		}
		verdict := yes(met == n)
		if met > 0 && met < n {
			verdict = fmt.Sprintf("**partly** (%d of %d)", met, n)
		}
		out = append(out, [3]string{fmt.Sprintf("%s, warm cache: ≥ %.2f × baseline", endpoint, target), strings.Join(parts, "; "), verdict})
	}
	ratioTarget(restFetch.name, targetREST)
	ratioTarget(gqlTasks.name, targetGraphQL)
	var defaultOrder *scaleRow
	for _, row := range r.scale {
		if row.Endpoint == gqlTasks.name {
			defaultOrder = row
		}
	}
	for _, row := range r.scale {
		if defaultOrder != nil && (row.Endpoint == gqlTasksByDue.name || row.Endpoint == gqlTasksSearch.name) {
			n := r.sizes2[len(r.sizes2)-1]
			f := float64(row.P50[n]) / float64(max(defaultOrder.P50[n], 1))
			out = append(out, [3]string{fmt.Sprintf("%s at %s tasks: ≤ 2 × the default order", row.Endpoint, thousands(n)),
				fmt.Sprintf("%.2f× (%s vs %s)", f, fmtDur(row.P50[n]), fmtDur(defaultOrder.P50[n])), yes(f <= 2)})
		}
		if row.Endpoint != restStats.name && row.Endpoint != gqlStats.name {
			continue
		}
		lo, hi := row.P50[r.sizes2[0]], row.P50[r.sizes2[len(r.sizes2)-1]]
		f := float64(hi) / float64(max(lo, 1))
		out = append(out, [3]string{fmt.Sprintf("%s at %s tasks: ≤ %.1f × at %d", row.Endpoint, thousands(r.sizes2[len(r.sizes2)-1]), targetStats, r.sizes2[0]),
			fmt.Sprintf("%.2f× (%s vs %s)", f, fmtDur(hi), fmtDur(lo)), yes(f <= targetStats)})
	}
	if len(r.rss) > 0 {
		var worst rssRow
		for _, m := range r.rss {
			if m.RSS > worst.RSS {
				worst = m
			}
		}
		out = append(out, [3]string{"RSS after load ≤ 60 MB", fmt.Sprintf("%s at most (%s)", mib(worst.RSS), worst.Config), yes(worst.RSS <= targetRSS)})
	}
	for _, c := range r.cold {
		f := float64(median(c.Taskapi)) / float64(max(median(c.Base), 1))
		out = append(out, [3]string{"cold start ≤ 2 × hello world: " + c.What, fmt.Sprintf("%.2f× (%s vs %s)", f, fmtDur(median(c.Taskapi)), fmtDur(median(c.Base))), yes(f <= targetColdStar)})
	}
	return out
}
