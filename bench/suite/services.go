package main

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
)

// services are the external processes shared by the phases.
type services struct {
	redisAddr string
	rdb       *redis.Client
	ddb       string // DynamoDB Local's endpoint; "" when unavailable
	ddbNote   string // why it is unavailable
	ddbProc   *proc
	baseline  *api // the baseline server, once responses are captured
}

const jwtSecret = "bench-jwt-secret-0123456789abcdefghijklmnopqrstuvwxyz"

// services starts redis-server, and DynamoDB Local when it is installed
// (it boots while the first phases run), and finds the Lambda emulator.
func (s *suite) services(ctx context.Context) (*services, error) {
	env := &services{}
	if err := s.startDynamoDB(env); err != nil {
		env.ddbNote = err.Error()
		s.logf("DynamoDB Local: %v (its measurements are skipped)", err)
	}
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		return nil, fmt.Errorf("redis-server is not on PATH (scripts/bench.sh installs it)")
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	env.redisAddr = "127.0.0.1:" + strconv.Itoa(port)
	p, err := s.procs.start(s.work, "redis", nil, bin, "--port", strconv.Itoa(port), "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no", "--dir", s.work, "--daemonize", "no", "--loglevel", "warning")
	if err != nil {
		return nil, err
	}
	if err := waitTCP(ctx, p, env.redisAddr, 10*time.Second); err != nil {
		return nil, err
	}
	env.rdb = redis.NewClient(&redis.Options{Addr: env.redisAddr})

	s.bin.rie = os.Getenv("TASKAPI_RIE")
	if s.bin.rie == "" {
		if p, err := exec.LookPath("aws-lambda-rie"); err == nil {
			s.bin.rie = p
		} else if p := filepath.Join(s.root, ".cache", "bin", "aws-lambda-rie"); fileExists(p) {
			s.bin.rie = p
		}
	}
	return env, nil
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

func (s *suite) startDynamoDB(env *services) error {
	dir := os.Getenv("TASKAPI_DYNAMODB_LOCAL_DIR")
	if dir == "" {
		dir = filepath.Join(s.root, ".cache", "dynamodb-local")
	}
	if !fileExists(filepath.Join(dir, "DynamoDBLocal.jar")) {
		return fmt.Errorf("DynamoDBLocal.jar not found in %s (scripts/bench.sh fetches it)", dir)
	}
	java, err := exec.LookPath("java")
	if err != nil {
		return fmt.Errorf("java is not on PATH")
	}
	port, err := freePort()
	if err != nil {
		return err
	}
	p, err := s.procs.start(s.work, "dynamodb-local", nil, java, "-Xmx512m", "-Djava.library.path="+filepath.Join(dir, "DynamoDBLocal_lib"),
		"-jar", filepath.Join(dir, "DynamoDBLocal.jar"), "-inMemory", "-sharedDb", "-disableTelemetry", "-port", strconv.Itoa(port))
	if err != nil {
		return err
	}
	env.ddb = "http://127.0.0.1:" + strconv.Itoa(port)
	env.ddbProc = p
	return nil
}

// dynamoReady waits for DynamoDB Local to accept connections.
func (s *suite) dynamoReady(ctx context.Context, env *services) bool {
	if env.ddb == "" {
		return false
	}
	if err := waitTCP(ctx, env.ddbProc, env.ddb[len("http://"):], 90*time.Second); err != nil {
		env.ddbNote = err.Error()
		env.ddb = ""
		s.logf("DynamoDB Local did not start: %v", err)
		return false
	}
	return true
}

// instance is a running taskapi.
type instance struct {
	*proc
	name string
	url  string
	api  *api
}

// config is how a taskapi instance is set up.
type config struct {
	name   string   // e.g. "embedded + Redis"
	key    string   // file-name safe
	env    []string // STORE, REDIS_HOST, ...
	redis  bool
	dynamo bool
}

func (s *suite) baseEnv(key string) []string {
	return []string{
		"DATA_DIR=" + filepath.Join(s.work, key+"-data"),
		"ENVIRONMENT=production",
		"JWT_SECRET=" + jwtSecret,
		"PASS_SECRET_KEY=bench-pepper",
		"LOG_LEVEL=info",
		"LOG_FORMAT=json",
		// Throughput, not the rate limits, is measured: one address logs in
		// and writes far more than they allow.
		"RATE_LIMIT_LOGIN=off", "RATE_LIMIT_LOGIN_ACCOUNT=off", "RATE_LIMIT_LOGIN_EMAIL=off",
		"RATE_LIMIT_REGISTER=off", "RATE_LIMIT_REGISTER_ALL=off", "RATE_LIMIT_WRITES=off",
		"AWS_REGION=us-east-1",
		"USERS_TABLE=bench-" + key + "-users",
		"TASKS_TABLE=bench-" + key + "-tasks",
	}
}

// startTaskapi starts taskapi with c's environment (and extra) on a free
// port and waits for /healthz.
func (s *suite) startTaskapi(ctx context.Context, c config, name string, extra ...string) (*instance, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	env := append(append(s.baseEnv(c.key), c.env...), extra...)
	env = append(env, "PORT="+strconv.Itoa(port))
	if c.dynamo {
		cmd := exec.CommandContext(ctx, s.bin.taskapi, "create-tables")
		cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + s.work}, env...)
		if out, err := cmd.CombinedOutput(); err != nil {
			return nil, fmt.Errorf("taskapi create-tables: %v: %s", err, out)
		}
	}
	p, err := s.procs.start(s.work, name, env, s.bin.taskapi)
	if err != nil {
		return nil, err
	}
	url := "http://127.0.0.1:" + strconv.Itoa(port)
	if err := waitHTTP(ctx, p, url+"/healthz", 30*time.Second); err != nil {
		p.stop()
		return nil, err
	}
	return &instance{proc: p, name: name, url: url, api: newAPI(url)}, nil
}

// load returns the wrk run of e against base with token.
func (s *suite) loadOf(base string, e endpoint, token string, conns int, dur time.Duration) load {
	h := map[string]string{}
	if token != "" {
		h["Authorization"] = "Bearer " + token
	}
	if e.body != "" {
		h["Content-Type"] = "application/json"
	}
	return load{method: e.method, url: base + e.path, headers: h, body: e.body, conns: conns, dur: dur}
}

var _ = http.MethodGet
