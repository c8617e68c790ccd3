package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/alexedwards/argon2id"

	"github.com/taskapi/taskapi/core"
)

const benchEmail = "bench@example.com"

// ---- throughput against the baseline ----

type cmpRow struct {
	Config, Endpoint string
	Conns            int
	Taskapi, Base    result
	RoundTrips       string
}

func (r cmpRow) ratio() float64 {
	if r.Base.RPS == 0 {
		return 0
	}
	return r.Taskapi.RPS / r.Base.RPS
}

type rssRow struct {
	Config    string
	RSS, Peak int64
}

func (s *suite) configs(env *services) []config {
	host, port, _ := net.SplitHostPort(env.redisAddr)
	redisEnv := []string{"REDIS_HOST=" + host, "REDIS_PORT=" + port}
	cs := []config{
		{name: "embedded + Redis (warm cache)", key: "warm", env: redisEnv, redis: true},
		{name: "embedded (uncached)", key: "embedded"},
	}
	if env.ddb != "" {
		dyn := []string{"STORE=dynamodb", "DYNAMODB_ENDPOINT=" + env.ddb}
		cs = append(cs, config{name: "DynamoDB Local (uncached)", key: "dynamo", env: dyn, dynamo: true})
		if !s.quick {
			cs = append(cs, config{name: "DynamoDB Local + Redis (warm cache)", key: "dynamowarm", env: append(slices.Clone(dyn), redisEnv...), redis: true, dynamo: true})
		}
	}
	return cs
}

func (s *suite) throughput(ctx context.Context, env *services) error {
	s.dynamoReady(ctx, env)
	s.rep.ddbNote = env.ddbNote
	for _, c := range s.configs(env) {
		if err := s.throughputOf(ctx, env, c); err != nil {
			return fmt.Errorf("%s: %w", c.name, err)
		}
	}
	return nil
}

func (s *suite) throughputOf(ctx context.Context, env *services, c config) error {
	inst, err := s.startTaskapi(ctx, c, "taskapi-"+c.key)
	if err != nil {
		return err
	}
	defer inst.stop()
	token, err := inst.api.user(ctx, benchEmail)
	if err != nil {
		return err
	}
	if err := inst.api.createTasks(ctx, token, 20, 4); err != nil {
		return err
	}
	if env.baseline == nil {
		if err := s.startBaseline(ctx, env, inst, token); err != nil {
			return err
		}
	}
	endpoints := []endpoint{restFetch, gqlTasks}
	// Round trips per request, counted over sequential requests once warm.
	trips := map[string]string{}
	for _, e := range endpoints {
		for range 20 {
			if _, err := inst.api.call(ctx, e, token); err != nil {
				return err
			}
		}
		var parts []string
		if c.redis {
			n, err := roundTrips(ctx, inst.api, e, token, 50, func() (int64, error) { return redisCommands(ctx, env.rdb) })
			if err != nil {
				return err
			}
			parts = append(parts, fmt.Sprintf("%.1f Redis", n-1.0/50)) // INFO itself is one command
		}
		if c.dynamo {
			n, err := s.dynamoTrips(ctx, env, c, e)
			if err != nil {
				return err
			}
			parts = append(parts, fmt.Sprintf("%.1f DynamoDB", n))
		}
		if len(parts) == 0 {
			parts = append(parts, "0 (in-process bbolt)")
		}
		trips[e.key] = strings.Join(parts, " + ")
	}
	for _, e := range endpoints {
		for _, conns := range []int{16, 64} {
			if _, err := s.wrk(ctx, s.loadOf(inst.url, e, token, conns, s.warm)); err != nil {
				return err
			}
			// Alternate short runs of the baseline and taskapi, so that what
			// else the machine does weighs on both alike.
			var bases, gots []result
			for range s.rounds {
				base, err := s.wrk(ctx, s.loadOf(env.baseline.base, e, token, conns, s.dur))
				if err != nil {
					return err
				}
				got, err := s.wrk(ctx, s.loadOf(inst.url, e, token, conns, s.dur))
				if err != nil {
					return err
				}
				bases, gots = append(bases, base), append(gots, got)
			}
			base, got := combine(bases), combine(gots)
			row := cmpRow{Config: c.name, Endpoint: e.name, Conns: conns, Taskapi: got, Base: base, RoundTrips: trips[e.key]}
			s.rep.rows = append(s.rep.rows, row)
			s.logf("%s, %s, %d clients: taskapi %s; baseline %s; ratio %.2f", c.name, e.name, conns, got, base, row.ratio())
		}
	}
	rss, peak := inst.memory()
	s.rep.rss = append(s.rep.rss, rssRow{Config: c.name, RSS: rss, Peak: peak})
	s.logf("%s: RSS after load %s (peak %s)", c.name, mib(rss), mib(peak))
	return nil
}

// dynamoTrips counts the DynamoDB operations per request of e through a
// counting proxy, with a second taskapi on the same tables.
func (s *suite) dynamoTrips(ctx context.Context, env *services, c config, e endpoint) (float64, error) {
	proxy, err := startCountingProxy(env.ddb)
	if err != nil {
		return 0, err
	}
	defer proxy.srv.Close()
	cc := c
	cc.env = append(slices.Clone(c.env), "DYNAMODB_ENDPOINT="+proxy.url)
	inst, err := s.startTaskapi(ctx, cc, "taskapi-"+c.key+"-counted")
	if err != nil {
		return 0, err
	}
	defer inst.stop()
	token, err := inst.api.login(ctx, benchEmail)
	if err != nil {
		return 0, err
	}
	for range 10 {
		if _, err := inst.api.call(ctx, e, token); err != nil {
			return 0, err
		}
	}
	return roundTrips(ctx, inst.api, e, token, 50, func() (int64, error) { return proxy.n.Load(), nil })
}

// startBaseline captures taskapi's answers to the measured requests and
// serves them from the baseline.
func (s *suite) startBaseline(ctx context.Context, env *services, inst *instance, token string) error {
	type response struct {
		Status int                 `json:"status"`
		Header map[string][]string `json:"header"`
		Body   string              `json:"body"`
	}
	rs := map[string]response{}
	for _, e := range []endpoint{restFetch, gqlTasks} {
		r, err := inst.api.call(ctx, e, token)
		if err != nil {
			return err
		}
		h := r.Header.Clone()
		for _, k := range []string{"Date", "Content-Length", "X-Request-Id"} {
			h.Del(k)
		}
		rs[e.method+" "+e.path] = response{Status: r.Status, Header: h, Body: string(r.Body)}
		s.rep.sizes = append(s.rep.sizes, fmt.Sprintf("%s: %d bytes", e.name, len(r.Body)))
	}
	b, _ := json.MarshalIndent(rs, "", "  ")
	file := filepath.Join(s.work, "responses.json")
	if err := os.WriteFile(file, b, 0o600); err != nil {
		return err
	}
	port, err := freePort()
	if err != nil {
		return err
	}
	addr := "127.0.0.1:" + strconv.Itoa(port)
	p, err := s.procs.start(s.work, "baseline", nil, s.bin.baseline, "-addr", addr, "-responses", file)
	if err != nil {
		return err
	}
	if err := waitHTTP(ctx, p, "http://"+addr+"/healthz", 10*time.Second); err != nil {
		return err
	}
	env.baseline = newAPI("http://" + addr)
	return nil
}

func mib(b int64) string { return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20)) }

// ---- logins ----

type loginReport struct {
	HashTime      time.Duration
	HashMax       float64 // hashes per second the CPUs allow
	Login         result
	ReadsAlone    result
	ReadsInStorm  result
	LoginsInStorm result
	RSSBefore     int64
	RSSAfter      int64
	Peak          int64
}

func (s *suite) logins(ctx context.Context, env *services) error {
	lr := &loginReport{}
	// The bound: one argon2id hash with taskapi's parameters, on one core.
	var times []time.Duration
	for range 5 {
		start := time.Now()
		if _, err := argon2id.CreateHash("correct horse", &core.OWASPParams); err != nil {
			return err
		}
		times = append(times, time.Since(start))
	}
	slices.Sort(times)
	lr.HashTime = times[len(times)/2]
	lr.HashMax = float64(runtime.NumCPU()) / lr.HashTime.Seconds()
	s.logf("argon2id hash: %s → at most %.0f logins/s on %d cores", fmtDur(lr.HashTime), lr.HashMax, runtime.NumCPU())

	c := config{name: "embedded (uncached)", key: "login"}
	inst, err := s.startTaskapi(ctx, c, "taskapi-login")
	if err != nil {
		return err
	}
	defer inst.stop()
	token, err := inst.api.user(ctx, benchEmail)
	if err != nil {
		return err
	}
	if err := inst.api.createTasks(ctx, token, 20, 4); err != nil {
		return err
	}
	loginBody, _ := json.Marshal(map[string]string{"email": benchEmail, "password": benchPassword})
	login := endpoint{name: "login", method: http.MethodPost, path: "/api/v1/auth/login", body: string(loginBody)}
	if lr.Login, err = s.wrk(ctx, s.loadOf(inst.url, login, "", 16, 2*s.dur)); err != nil {
		return err
	}
	s.logf("logins, 16 clients: %s", lr.Login)
	if _, err := s.wrk(ctx, s.loadOf(inst.url, restFetch, token, 16, s.warm)); err != nil {
		return err
	}
	if lr.ReadsAlone, err = s.wrk(ctx, s.loadOf(inst.url, restFetch, token, 16, 2*s.dur)); err != nil {
		return err
	}
	lr.RSSBefore, _ = inst.memory()
	s.logf("reads alone, 16 clients: %s", lr.ReadsAlone)
	var wg sync.WaitGroup
	var errLogin error
	wg.Add(1)
	go func() {
		defer wg.Done()
		lr.LoginsInStorm, errLogin = s.wrk(ctx, s.loadOf(inst.url, login, "", 32, 2*s.dur))
	}()
	lr.ReadsInStorm, err = s.wrk(ctx, s.loadOf(inst.url, restFetch, token, 16, 2*s.dur))
	wg.Wait()
	if err != nil {
		return err
	}
	if errLogin != nil {
		return errLogin
	}
	lr.RSSAfter, lr.Peak = inst.memory()
	s.logf("during a login storm (32 clients): reads %s; logins %s; RSS %s, peak %s", lr.ReadsInStorm, lr.LoginsInStorm, mib(lr.RSSAfter), mib(lr.Peak))
	s.rep.login = lr
	return nil
}

// ---- how cost grows ----

type scaleRow struct {
	Endpoint string
	P50      map[int]time.Duration
	RPS      map[int]float64
}

func (s *suite) scaling(ctx context.Context, env *services) error {
	sizes := []int{10, 1000, 10000}
	if s.quick {
		sizes = sizes[:2] // creating 10,000 tasks takes half a minute (one fsync each)
	}
	c := config{name: "embedded (uncached)", key: "scale"}
	inst, err := s.startTaskapi(ctx, c, "taskapi-scale")
	if err != nil {
		return err
	}
	defer inst.stop()
	endpoints := []endpoint{gqlTasks, gqlTasksByDue, gqlTasksSearch, gqlStats, restStats, restFetch}
	rows := make([]*scaleRow, len(endpoints))
	for i, e := range endpoints {
		rows[i] = &scaleRow{Endpoint: e.name, P50: map[int]time.Duration{}, RPS: map[int]float64{}}
	}
	tokens := make(map[int]string, len(sizes))
	for _, n := range sizes {
		token, err := inst.api.user(ctx, fmt.Sprintf("scale%d@example.com", n))
		if err != nil {
			return err
		}
		start := time.Now()
		if err := inst.api.createTasks(ctx, token, n, 8); err != nil {
			return err
		}
		s.logf("%d tasks created in %s", n, time.Since(start).Round(time.Millisecond))
		tokens[n] = token
	}
	// The sizes are measured in turn within each round (in reverse order
	// every other round), and each figure is the best of its rounds: drift
	// over the run (the bbolt file's growth, the machine's other load)
	// weighs on every size alike, and the other load, which only ever adds
	// time, is left out as far as it can be.
	type sample struct {
		p50 []time.Duration
		rps []float64
	}
	samples := make([]map[int]*sample, len(endpoints))
	for i, e := range endpoints {
		samples[i] = map[int]*sample{}
		for _, n := range sizes {
			samples[i][n] = &sample{}
			if _, err := inst.api.call(ctx, e, tokens[n]); err != nil {
				return err
			}
		}
	}
	for round := range s.rounds {
		order := slices.Clone(sizes)
		if round%2 == 1 {
			slices.Reverse(order) // no size always follows the same one
		}
		for i, e := range endpoints {
			for _, n := range order {
				r, err := s.wrk(ctx, s.loadOf(inst.url, e, tokens[n], 1, s.dur))
				if err != nil {
					return err
				}
				samples[i][n].p50 = append(samples[i][n].p50, r.P50)
				samples[i][n].rps = append(samples[i][n].rps, r.RPS)
				s.logf("round %d, %d tasks, %s, 1 client: %s", round+1, n, e.name, r)
			}
		}
	}
	for i := range endpoints {
		for _, n := range sizes {
			rows[i].P50[n], rows[i].RPS[n] = slices.Min(samples[i][n].p50), slices.Max(samples[i][n].rps)
		}
	}
	s.rep.sizes2 = sizes
	s.rep.scaleRounds = s.rounds
	s.rep.scale = rows
	return nil
}

// ---- cold starts ----

type coldRow struct {
	What          string
	Taskapi, Base []time.Duration
}

func (s *suite) coldStarts(ctx context.Context, env *services) error {
	// A restart: the data directory exists (the first start, which creates
	// it, is not counted).
	direct := coldRow{What: "exec → first 200 (HTTP server restarting on its embedded store)"}
	coldEnv := s.baseEnv("cold")
	if _, err := s.coldDirect(ctx, s.bin.taskapi, coldEnv); err != nil {
		return err
	}
	for range s.reps {
		d, err := s.coldDirect(ctx, s.bin.taskapi, coldEnv)
		if err != nil {
			return err
		}
		direct.Taskapi = append(direct.Taskapi, d)
		if d, err = s.coldDirect(ctx, s.bin.hello, nil); err != nil {
			return err
		}
		direct.Base = append(direct.Base, d)
	}
	s.rep.cold = append(s.rep.cold, direct)
	s.logf("cold start: taskapi %s, hello %s (medians)", fmtDur(median(direct.Taskapi)), fmtDur(median(direct.Base)))

	// The floor: hello with only taskapi's heaviest libraries linked,
	// alternating with hello itself.
	floors := make([]coldRow, len(s.floors))
	for range s.reps {
		for i, f := range s.floors {
			d, err := s.coldDirect(ctx, f.bin, nil)
			if err != nil {
				return err
			}
			floors[i].What = f.what
			floors[i].Taskapi = append(floors[i].Taskapi, d)
			if d, err = s.coldDirect(ctx, s.bin.hello, nil); err != nil {
				return err
			}
			floors[i].Base = append(floors[i].Base, d)
		}
	}
	for _, f := range floors {
		s.logf("cold start floor: %s %s, hello %s (medians)", f.What, fmtDur(median(f.Taskapi)), fmtDur(median(f.Base)))
	}
	s.rep.coldFloors = floors
	if s.bin.rie == "" {
		s.rep.rieNote = "the Lambda Runtime Interface Emulator was not found (set TASKAPI_RIE or run scripts/bench.sh)"
		return nil
	}
	// As deployed: the DynamoDB store (DynamoDB Local, when available; a
	// cold start makes no call to it), else the embedded one in a fresh
	// directory, as a Lambda instance's /tmp would be.
	lam := coldRow{What: "emulator start → first 200 through aws-lambda-rie (embedded store)"}
	lambdaEnv := func(i int) []string { return s.baseEnv(fmt.Sprintf("coldl%d", i)) }
	if env.ddb != "" {
		lam.What = "emulator start → first 200 through aws-lambda-rie (DynamoDB store)"
		lambdaEnv = func(i int) []string {
			return append(s.baseEnv(fmt.Sprintf("coldl%d", i)), "STORE=dynamodb", "DYNAMODB_ENDPOINT="+env.ddb)
		}
	}
	for i := range s.reps {
		d, err := s.coldLambda(ctx, s.bin.taskapi, lambdaEnv(i))
		if err != nil {
			return err
		}
		lam.Taskapi = append(lam.Taskapi, d)
		if d, err = s.coldLambda(ctx, s.bin.hello, nil); err != nil {
			return err
		}
		lam.Base = append(lam.Base, d)
	}
	s.rep.cold = append(s.rep.cold, lam)
	s.logf("Lambda cold start: taskapi %s, hello %s (medians)", fmtDur(median(lam.Taskapi)), fmtDur(median(lam.Base)))
	return nil
}

// coldDirect execs bin and returns the time until GET /healthz answers 200.
func (s *suite) coldDirect(ctx context.Context, bin string, env []string) (time.Duration, error) {
	port, err := freePort()
	if err != nil {
		return 0, err
	}
	addr := "127.0.0.1:" + strconv.Itoa(port)
	client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	start := time.Now()
	p, err := s.procs.start(s.work, "cold", append(env, "PORT="+strconv.Itoa(port)), bin)
	if err != nil {
		return 0, err
	}
	defer p.stop()
	for time.Since(start) < 30*time.Second {
		if p.exited() {
			return 0, fmt.Errorf("%s exited: %s", bin, p.tail())
		}
		c, err := net.Dial("tcp", addr)
		if err != nil {
			time.Sleep(200 * time.Microsecond)
			continue
		}
		c.Close()
		res, err := client.Get("http://" + addr + "/healthz")
		if err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return time.Since(start), nil
			}
		}
	}
	return 0, fmt.Errorf("%s did not answer within 30s: %s", bin, p.tail())
}

// coldLambda starts the emulator with bin as the function and returns the
// time until an invocation answers statusCode 200.
func (s *suite) coldLambda(ctx context.Context, bin string, env []string) (time.Duration, error) {
	apiPort, err := freePort()
	if err != nil {
		return 0, err
	}
	rtPort, err := freePort()
	if err != nil {
		return 0, err
	}
	env = append(env, "AWS_LAMBDA_FUNCTION_NAME=taskapi-bench", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE=512", "AWS_LAMBDA_FUNCTION_TIMEOUT=30")
	url := fmt.Sprintf("http://127.0.0.1:%d/2015-03-31/functions/function/invocations", apiPort)
	event := `{"version":"2.0","routeKey":"$default","rawPath":"/healthz","rawQueryString":"","headers":{},"requestContext":{"http":{"method":"GET","path":"/healthz","protocol":"HTTP/1.1","sourceIp":"203.0.113.9","userAgent":"bench"},"routeKey":"$default","stage":"$default","requestId":"bench"},"isBase64Encoded":false}`
	client := &http.Client{Timeout: 30 * time.Second}
	start := time.Now()
	p, err := s.procs.start(s.work, "rie", env, s.bin.rie,
		"--runtime-interface-emulator-address", fmt.Sprintf("127.0.0.1:%d", apiPort),
		"--runtime-api-address", fmt.Sprintf("127.0.0.1:%d", rtPort), bin)
	if err != nil {
		return 0, err
	}
	defer p.stop()
	for time.Since(start) < 30*time.Second {
		if p.exited() {
			return 0, fmt.Errorf("aws-lambda-rie exited: %s", p.tail())
		}
		res, err := client.Post(url, "application/json", strings.NewReader(event))
		if err != nil {
			time.Sleep(time.Millisecond)
			continue
		}
		var out struct {
			StatusCode int `json:"statusCode"`
		}
		err = json.NewDecoder(res.Body).Decode(&out)
		res.Body.Close()
		if err == nil && out.StatusCode == http.StatusOK {
			return time.Since(start), nil
		}
		return 0, fmt.Errorf("invocation answered %d / %d: %v; %s", res.StatusCode, out.StatusCode, err, p.tail())
	}
	return 0, fmt.Errorf("no answer through the emulator within 30s: %s", p.tail())
}

func median(ds []time.Duration) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}

// ---- Go benchmarks (allocations per request) ----

type goBench struct {
	Name           string
	NsOp, BOp, Ops float64
	AllocsOp       float64
}

var reBench = regexp.MustCompile(`^(Benchmark\S+?)(?:-\d+)?\s+(\d+)\s+([0-9.]+) ns/op\s+([0-9.]+) B/op\s+([0-9.]+) allocs/op`)

func (s *suite) goBenchmarks(ctx context.Context, env *services) error {
	bt := "1s"
	if s.quick {
		bt = "300ms"
	}
	args := []string{"test", "-run", "^$", "-bench", ".", "-benchmem", "-benchtime", bt, "./bench/"}
	s.rep.goBenchCmd = "go " + strings.Join(args, " ")
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = s.root
	cmd.Env = os.Environ()
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s: %v\n%s", s.rep.goBenchCmd, err, out)
	}
	sc := bufio.NewScanner(strings.NewReader(string(out)))
	for sc.Scan() {
		m := reBench.FindStringSubmatch(sc.Text())
		if m == nil {
			continue
		}
		var b goBench
		b.Name = m[1]
		b.Ops, _ = strconv.ParseFloat(m[2], 64)
		b.NsOp, _ = strconv.ParseFloat(m[3], 64)
		b.BOp, _ = strconv.ParseFloat(m[4], 64)
		b.AllocsOp, _ = strconv.ParseFloat(m[5], 64)
		s.rep.goBench = append(s.rep.goBench, b)
		s.logf("%s: %.0f ns/op, %.0f B/op, %.0f allocs/op", b.Name, b.NsOp, b.BOp, b.AllocsOp)
	}
	if len(s.rep.goBench) == 0 {
		return fmt.Errorf("no benchmark results in:\n%s", out)
	}
	return nil
}
