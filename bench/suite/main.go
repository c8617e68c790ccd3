// Command suite is taskapi's benchmark suite (scripts/bench.sh runs it). In
// one run on this machine it builds taskapi, a baseline (plain net/http
// answering with the same bytes) and a hello-world binary, starts them on
// free loopback ports with each store configuration, drives them with wrk,
// and writes docs/performance.md and docs/performance.png.
//
//	go run ./bench/suite [-quick] [-out docs]
//
// It needs wrk and redis-server on PATH; DynamoDB Local (java and
// $TASKAPI_DYNAMODB_LOCAL_DIR) and the Lambda Runtime Interface Emulator
// ($TASKAPI_RIE) are used when present, and their parts are skipped, with a
// note in the report, when not. The numbers only report: nothing here fails
// on a slow machine.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"time"
)

func main() {
	quick := flag.Bool("quick", false, "short runs, fewer sizes and repetitions (about 2 minutes)")
	out := flag.String("out", "docs", "directory for performance.md and performance.png")
	keep := flag.Bool("keep", false, "keep the work directory (logs, captured responses)")
	flag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	s, err := newSuite(*quick, *out, *keep)
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
	err = s.run(ctx)
	s.close()
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

// suite is one run.
type suite struct {
	quick   bool
	dur     time.Duration // one measured load run
	rounds  int           // alternating baseline/taskapi runs per measurement
	warm    time.Duration // warm-up before it
	reps    int           // cold starts of each kind
	root    string        // the repository
	out     string
	work    string
	keep    bool
	procs   procs
	bin     struct{ taskapi, baseline, hello, rie string }
	floors  []floorBin // hello with some of taskapi's libraries linked
	rep     *report
	start   time.Time
	scripts int // wrk scripts written so far
}

func newSuite(quick bool, out string, keep bool) (*suite, error) {
	root, err := repoRoot()
	if err != nil {
		return nil, err
	}
	work, err := os.MkdirTemp("", "taskapi-bench-")
	if err != nil {
		return nil, err
	}
	s := &suite{quick: quick, dur: 3 * time.Second, rounds: 3, warm: 2 * time.Second, reps: 10, root: root, out: out, work: work, keep: keep, rep: &report{}, start: time.Now()}
	if quick {
		s.dur, s.rounds, s.warm, s.reps = time.Second, 2, time.Second, 3
	}
	if !filepath.IsAbs(s.out) {
		s.out = filepath.Join(root, s.out)
	}
	return s, nil
}

func (s *suite) close() {
	s.procs.stopAll()
	if s.keep {
		s.logf("work directory kept: %s", s.work)
		return
	}
	_ = os.RemoveAll(s.work)
}

func (s *suite) logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "[%5.1fs] %s\n", time.Since(s.start).Seconds(), fmt.Sprintf(format, args...))
}

func repoRoot() (string, error) {
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}").Output()
	if err != nil {
		return "", fmt.Errorf("go list -m: %w (run from the repository)", err)
	}
	return strings.TrimSpace(string(out)), nil
}

func (s *suite) run(ctx context.Context) error {
	if _, err := exec.LookPath("wrk"); err != nil {
		return errors.New("wrk is not on PATH (scripts/bench.sh installs it)")
	}
	s.rep.machine = machine()
	s.rep.quick = s.quick
	s.rep.loadBefore = loadAvg()
	s.logf("machine: %s; load average %s", s.rep.machine, s.rep.loadBefore)
	if err := s.build(ctx); err != nil {
		return err
	}
	env, err := s.services(ctx)
	if err != nil {
		return err
	}
	phases := []struct {
		name string
		fn   func(context.Context, *services) error
	}{
		{"throughput", s.throughput},
		{"logins", s.logins},
		{"scaling", s.scaling},
		{"cold starts", s.coldStarts},
		{"go benchmarks", s.goBenchmarks},
	}
	for _, p := range phases {
		if err := ctx.Err(); err != nil {
			return err
		}
		s.logf("== %s", p.name)
		if err := p.fn(ctx, env); err != nil {
			return fmt.Errorf("%s: %w", p.name, err)
		}
	}
	s.rep.loadAfter = loadAvg()
	s.rep.elapsed = time.Since(s.start)
	return s.write()
}

// buildFlags are the Dockerfile's: what runs in Lambda is what is measured.
var buildFlags = []string{"build", "-trimpath", "-ldflags=-s -w", "-tags", "lambda.norpc,lambdaenv"}

func (s *suite) build(ctx context.Context) error {
	for _, b := range []struct {
		dst *string
		pkg string
	}{{&s.bin.taskapi, "./cmd/taskapi"}, {&s.bin.baseline, "./bench/baseline"}, {&s.bin.hello, "./bench/hello"}} {
		*b.dst = filepath.Join(s.work, filepath.Base(b.pkg))
		start := time.Now()
		cmd := exec.CommandContext(ctx, "go", append(append([]string{}, buildFlags...), "-o", *b.dst, b.pkg)...)
		cmd.Dir = s.root
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("go build %s: %v\n%s", b.pkg, err, out)
		}
		s.logf("built %s in %s", b.pkg, time.Since(start).Round(time.Millisecond))
	}
	for _, f := range helloFloors {
		bin := filepath.Join(s.work, "hello-"+f.tag)
		flags := append(append([]string{}, buildFlags[:len(buildFlags)-1]...), "lambda.norpc,lambdaenv,"+f.tag, "-o", bin, "./bench/hello")
		cmd := exec.CommandContext(ctx, "go", flags...)
		cmd.Dir = s.root
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("go build ./bench/hello -tags %s: %v\n%s", f.tag, err, out)
		}
		s.floors = append(s.floors, floorBin{what: f.what, bin: bin})
	}
	return nil
}

// helloFloors are hello built with some of the libraries taskapi cannot do
// without: their cold starts show how much of taskapi's is package
// initialization that no code of taskapi's runs.
var helloFloors = []struct{ tag, what string }{
	{"hello_sdk", "hello + the AWS SDK (DynamoDB, credentials)"},
	{"hello_gql", "hello + taskapi's gqlgen executor (schema parsed at init)"},
	{"hello_deps", "hello + both"},
}

type floorBin struct{ what, bin string }

func machine() string {
	cpu := "unknown CPU"
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for line := range strings.SplitSeq(string(b), "\n") {
			if v, ok := strings.CutPrefix(line, "model name"); ok {
				cpu = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(v), ":"))
				break
			}
		}
	}
	return fmt.Sprintf("%d × %s, %s, %s/%s", runtime.NumCPU(), cpu, runtime.Version(), runtime.GOOS, runtime.GOARCH)
}

func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}
