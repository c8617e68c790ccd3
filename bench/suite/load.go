package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// load is one wrk run: conns connections for dur against one request.
type load struct {
	method  string
	url     string
	headers map[string]string
	body    string
	conns   int
	dur     time.Duration
}

// result is what wrk measured.
type result struct {
	RPS      float64
	P50, P99 time.Duration
	Requests int
	Bad      int // non-2xx responses and socket errors (timeouts included)
}

func (r result) String() string {
	s := fmt.Sprintf("%.0f req/s, p50 %s, p99 %s", r.RPS, fmtDur(r.P50), fmtDur(r.P99))
	if r.Bad > 0 {
		s += fmt.Sprintf(", %d bad", r.Bad)
	}
	return s
}

// wrk runs l with one wrk thread (the load generator shares the machine's
// two cores with the server: one thread is enough to saturate it and leaves
// it the most CPU).
func (s *suite) wrk(ctx context.Context, l load) (result, error) {
	s.scripts++
	script := filepath.Join(s.work, fmt.Sprintf("wrk-%d.lua", s.scripts))
	var b strings.Builder
	fmt.Fprintf(&b, "wrk.method = %s\n", luaString(l.method))
	if l.body != "" {
		fmt.Fprintf(&b, "wrk.body = %s\n", luaString(l.body))
	}
	for k, v := range l.headers {
		fmt.Fprintf(&b, "wrk.headers[ %s ] = %s\n", luaString(k), luaString(v))
	}
	if err := os.WriteFile(script, []byte(b.String()), 0o600); err != nil {
		return result{}, err
	}
	secs := max(1, int(l.dur.Round(time.Second)/time.Second))
	cmd := exec.CommandContext(ctx, "wrk", "-t1", "-c"+strconv.Itoa(l.conns), "-d"+strconv.Itoa(secs)+"s",
		"--timeout", "10s", "--latency", "-s", script, l.url)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return result{}, fmt.Errorf("wrk %s: %v: %s", l.url, err, out)
	}
	r, err := parseWrk(string(out))
	if err == nil && r.Requests == 0 {
		err = fmt.Errorf("wrk %s %s: no request completed in %v", l.method, l.url, l.dur)
	}
	if err == nil && r.Bad > r.Requests/100 {
		err = fmt.Errorf("wrk %s %s: %d of %d requests failed", l.method, l.url, r.Bad, r.Requests)
	}
	return r, err
}

// luaString quotes s as a Lua long string.
func luaString(s string) string {
	eq := "="
	for strings.Contains(s, "]"+eq+"]") {
		eq += "="
	}
	return "[" + eq + "[" + s + "]" + eq + "]"
}

var (
	reRPS     = regexp.MustCompile(`Requests/sec:\s+([0-9.]+)`)
	reReqs    = regexp.MustCompile(`(\d+) requests in`)
	reNon2xx  = regexp.MustCompile(`Non-2xx or 3xx responses: (\d+)`)
	reSockErr = regexp.MustCompile(`Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)`)
	rePct     = regexp.MustCompile(`(?m)^\s+(50|99)%\s+([0-9.]+)(us|ms|s|m)\s*$`)
)

func parseWrk(out string) (result, error) {
	var r result
	m := reRPS.FindStringSubmatch(out)
	if m == nil {
		return r, fmt.Errorf("no Requests/sec in wrk output: %s", out)
	}
	r.RPS, _ = strconv.ParseFloat(m[1], 64)
	if m := reReqs.FindStringSubmatch(out); m != nil {
		r.Requests, _ = strconv.Atoi(m[1])
	}
	if m := reNon2xx.FindStringSubmatch(out); m != nil {
		n, _ := strconv.Atoi(m[1])
		r.Bad += n
	}
	if m := reSockErr.FindStringSubmatch(out); m != nil {
		for _, v := range m[1:] {
			n, _ := strconv.Atoi(v)
			r.Bad += n
		}
	}
	for _, m := range rePct.FindAllStringSubmatch(out, -1) {
		v, _ := strconv.ParseFloat(m[2], 64)
		unit := map[string]time.Duration{"us": time.Microsecond, "ms": time.Millisecond, "s": time.Second, "m": time.Minute}[m[3]]
		d := time.Duration(v * float64(unit))
		if m[1] == "50" {
			r.P50 = d
		} else {
			r.P99 = d
		}
	}
	return r, nil
}

// combine sums runs of the same load: mean throughput, median latencies.
func combine(rs []result) result {
	var out result
	var p50, p99 []time.Duration
	for _, r := range rs {
		out.RPS += r.RPS / float64(len(rs))
		out.Requests += r.Requests
		out.Bad += r.Bad
		p50, p99 = append(p50, r.P50), append(p99, r.P99)
	}
	out.P50, out.P99 = median(p50), median(p99)
	return out
}

func fmtDur(d time.Duration) string {
	switch {
	case d == 0:
		return "–"
	case d < time.Millisecond:
		return fmt.Sprintf("%.0f µs", float64(d)/float64(time.Microsecond))
	case d < 10*time.Millisecond:
		return fmt.Sprintf("%.2f ms", float64(d)/float64(time.Millisecond))
	case d < time.Second:
		return fmt.Sprintf("%.1f ms", float64(d)/float64(time.Millisecond))
	}
	return fmt.Sprintf("%.2f s", d.Seconds())
}
