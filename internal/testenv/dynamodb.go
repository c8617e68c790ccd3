package testenv

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Environment variables that tell tests where DynamoDB Local is.
const (
	// EnvDynamoDBEndpoint names a running DynamoDB Local (or any DynamoDB
	// endpoint), e.g. http://127.0.0.1:8000.
	EnvDynamoDBEndpoint = "TASKAPI_TEST_DYNAMODB_ENDPOINT"
	// EnvDynamoDBLocalDir names the folder holding DynamoDBLocal.jar and
	// DynamoDBLocal_lib, as printed by scripts/dynamodb-local.sh.
	EnvDynamoDBLocalDir = "TASKAPI_DYNAMODB_LOCAL_DIR"
	// EnvRequireServices, set to 1, turns "service unavailable" skips into
	// failures (the full test suite sets it).
	EnvRequireServices = "TASKAPI_TEST_REQUIRE_SERVICES"
)

// dynamoDBStartTimeout bounds how long a freshly started DynamoDB Local may
// take to answer (a cold JVM on a busy two-core machine).
const dynamoDBStartTimeout = 45 * time.Second

// DynamoDB returns the URL of a DynamoDB Local for t. It uses
// $TASKAPI_TEST_DYNAMODB_ENDPOINT when set; otherwise, when
// $TASKAPI_DYNAMODB_LOCAL_DIR names the emulator's folder, it starts a
// private in-memory emulator on a free loopback port and stops it when t
// ends. Without either it skips t, or fails it when
// $TASKAPI_TEST_REQUIRE_SERVICES=1.
//
// Tests share the emulator: each must use its own table names.
func DynamoDB(t testing.TB) string {
	t.Helper()
	if ep := os.Getenv(EnvDynamoDBEndpoint); ep != "" {
		if err := probe(ep, 5*time.Second); err != nil {
			t.Fatalf("%s=%s does not answer: %v", EnvDynamoDBEndpoint, ep, err)
		}
		return ep
	}
	if os.Getenv(EnvDynamoDBLocalDir) == "" {
		unavailable(t, "DynamoDB Local is not available: set "+EnvDynamoDBEndpoint+
			" to a running emulator, or "+EnvDynamoDBLocalDir+"=$(scripts/dynamodb-local.sh)")
	}
	return StartDynamoDB(t, DynamoDBOptions{}).Endpoint()
}

// unavailable skips t because a service is missing, or fails it when the
// full suite requires every service.
func unavailable(t testing.TB, reason string) {
	t.Helper()
	if os.Getenv(EnvRequireServices) == "1" {
		t.Fatalf("%s (required: %s=1)", reason, EnvRequireServices)
	}
	t.Skip(reason)
}

// DynamoDBOptions configures StartDynamoDB.
type DynamoDBOptions struct {
	// Persist keeps the data in a temporary folder instead of memory, so it
	// survives Stop and Start.
	Persist bool
}

// DynamoDBServer is a DynamoDB Local process owned by one test. It can be
// stopped and started again on the same port, to test how clients live
// through an outage.
type DynamoDBServer struct {
	dir, dataDir string
	port         int        // the Endpoint's
	jvmPort      int        // where the JVM listens: port itself, or behind front
	front        *frontDoor // a persistent server's, see Stop

	mu     sync.Mutex
	cmd    *exec.Cmd
	done   chan struct{} // closed when cmd has exited
	logs   *logBuffer
	forced int // stops that ended in SIGKILL (ForcedStops)
}

// stopGrace is how long Stop waits for the JVM to exit after SIGTERM before
// it kills it: a kill could lose writes the emulator had acknowledged, so a
// loaded machine gets time to shut down cleanly.
const stopGrace = 30 * time.Second

// ForcedStops says how many Stops had to kill the server because it did not
// exit within stopGrace: a test that finds acknowledged data missing after
// a restart reports it, since the emulator may then have lost writes.
func (s *DynamoDBServer) ForcedStops() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.forced
}

// StartDynamoDB starts a private DynamoDB Local from $TASKAPI_DYNAMODB_LOCAL_DIR
// on a free loopback port and stops it when t ends. It skips t (or fails it
// under $TASKAPI_TEST_REQUIRE_SERVICES=1) when the emulator or Java is missing.
func StartDynamoDB(t testing.TB, o DynamoDBOptions) *DynamoDBServer {
	t.Helper()
	dir := os.Getenv(EnvDynamoDBLocalDir)
	if dir == "" {
		unavailable(t, "cannot start DynamoDB Local: "+EnvDynamoDBLocalDir+" is not set (use $(scripts/dynamodb-local.sh))")
	}
	if _, err := os.Stat(filepath.Join(dir, "DynamoDBLocal.jar")); err != nil {
		unavailable(t, fmt.Sprintf("cannot start DynamoDB Local: %s=%s holds no DynamoDBLocal.jar", EnvDynamoDBLocalDir, dir))
	}
	if _, err := exec.LookPath("java"); err != nil {
		unavailable(t, "cannot start DynamoDB Local: java is not on PATH")
	}
	s := &DynamoDBServer{dir: dir}
	if o.Persist {
		s.dataDir = t.TempDir()
	}
	t.Cleanup(func() { _ = s.Stop() })
	var err error
	for range 3 { // another process may take the free port before the JVM binds it
		if s.port, err = freePort(); err != nil {
			t.Fatalf("DynamoDB Local: find a free port: %v", err)
		}
		s.jvmPort = s.port
		if o.Persist {
			if s.jvmPort, err = freePort(); err != nil {
				t.Fatalf("DynamoDB Local: find a free port: %v", err)
			}
		}
		if err = s.Start(); err == nil {
			return s
		}
	}
	t.Fatalf("DynamoDB Local: %v", err)
	return nil
}

// Endpoint is the server's URL, the same across restarts.
func (s *DynamoDBServer) Endpoint() string { return "http://127.0.0.1:" + strconv.Itoa(s.port) }

// Start starts the server if it is not running and waits until it answers.
func (s *DynamoDBServer) Start() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd != nil {
		return nil
	}
	args := []string{"-Xmx256m", "-Djava.library.path=DynamoDBLocal_lib", "-jar", "DynamoDBLocal.jar",
		"-sharedDb", "-disableTelemetry", "-port", strconv.Itoa(s.jvmPort)}
	if s.dataDir != "" {
		args = append(args, "-dbPath", s.dataDir)
	} else {
		args = append(args, "-inMemory")
	}
	cmd := exec.Command("java", args...)
	cmd.Dir = s.dir
	cmd.SysProcAttr = redisProcAttr() // dies with the test process, cleanups or not
	s.logs = &logBuffer{}
	cmd.Stdout, cmd.Stderr = s.logs, s.logs
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start java: %w", err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	s.cmd, s.done = cmd, done

	deadline := time.Now().Add(dynamoDBStartTimeout)
	for {
		err := probe(s.jvmEndpoint(), time.Second)
		if err == nil && s.jvmPort != s.port {
			if s.front, err = openFrontDoor(s.port, s.jvmPort); err != nil {
				_ = cmd.Process.Kill()
				<-done
				s.cmd = nil
				return fmt.Errorf("listen on port %d: %w", s.port, err)
			}
		}
		if err == nil {
			return nil
		}
		select {
		case <-done:
			s.cmd = nil
			return fmt.Errorf("exited before answering: %s", s.logs.String())
		case <-time.After(200 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			_ = cmd.Process.Kill()
			<-done
			s.cmd = nil
			return fmt.Errorf("no answer on port %d after %v: %v; output: %s", s.port, dynamoDBStartTimeout, err, s.logs.String())
		}
	}
}

// Stop stops the server and waits for it to exit; its port is free again
// when Stop returns. Stopping a stopped server does nothing.
//
// DynamoDB Local answers a TransactWriteItems before its SQLite COMMIT has
// run (the commit is queued), so a JVM that ends within milliseconds of an
// answer can lose a transaction it acknowledged — what real DynamoDB never
// does, and what once failed TestDynamoDBOutageUnderLoad (killed or sent
// SIGTERM while writing, the emulator lost 7 of 43,604 acknowledged writes
// over 35 runs, every one a transaction, and none when its writers had
// stopped first).
// So a persistent server's clients reach it through a front door: Stop
// first closes that, as a dead server would drop every connection (a
// request in flight gets no answer), then lets the queued commits run
// before SIGTERM. One that hangs on is killed (ForcedStops).
func (s *DynamoDBServer) Stop() error { return s.stop(syscall.SIGTERM) }

// Kill kills the server at once (SIGKILL), as a crash would, and waits for
// it to exit.
func (s *DynamoDBServer) Kill() error { return s.stop(syscall.SIGKILL) }

func (s *DynamoDBServer) stop(sig syscall.Signal) error {
	s.mu.Lock()
	cmd, done, front := s.cmd, s.done, s.front
	s.cmd, s.front = nil, nil
	s.mu.Unlock()
	if cmd == nil {
		return nil
	}
	_ = cmd.Process.Signal(syscall.SIGCONT) // in case it is paused
	if front != nil {
		front.close()
	}
	if front != nil && sig != syscall.SIGKILL {
		// The SQLite jobs run one at a time, in order: once a later
		// request is answered, the commits queued before it have run.
		_ = listTables(s.jvmEndpoint(), 5*time.Second)
		time.Sleep(100 * time.Millisecond)
	}
	if err := cmd.Process.Signal(sig); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return err
	}
	select {
	case <-done:
	case <-time.After(stopGrace):
		_ = cmd.Process.Kill()
		<-done
		s.mu.Lock()
		s.forced++
		s.mu.Unlock()
	}
	return nil
}

// Pause freezes the server (SIGSTOP): connections are accepted by the
// kernel but never answered, as with a hung network. Resume undoes it.
func (s *DynamoDBServer) Pause() error { return s.signal(syscall.SIGSTOP) }

// Resume lets a paused server run again.
func (s *DynamoDBServer) Resume() error { return s.signal(syscall.SIGCONT) }

func (s *DynamoDBServer) signal(sig os.Signal) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd == nil {
		return errors.New("DynamoDB Local is not running")
	}
	return s.cmd.Process.Signal(sig)
}

// probe reports whether something answers HTTP at endpoint (DynamoDB
// answers a bare GET with an error status, which is enough).
// jvmEndpoint is the JVM's own address, past the front door.
func (s *DynamoDBServer) jvmEndpoint() string { return "http://127.0.0.1:" + strconv.Itoa(s.jvmPort) }

// listTables asks endpoint for its tables: a request the emulator serves
// from SQLite.
func listTables(endpoint string, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, strings.NewReader("{}"))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-amz-json-1.0")
	req.Header.Set("X-Amz-Target", "DynamoDB_20120810.ListTables")
	req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=local/20260101/us-east-1/dynamodb/aws4_request, SignedHeaders=host, Signature=00")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.Body.Close()
}

func probe(endpoint string, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, endpoint, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	return resp.Body.Close()
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// logBuffer keeps the first 64 KiB of a server's output, for error
// messages.
type logBuffer struct{ SyncBuffer }

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if room := 64<<10 - l.b.Len(); room > 0 {
		l.b.Write(p[:min(len(p), room)])
	}
	return len(p), nil
}

// frontDoor forwards a port to the JVM's, and can drop every connection
// at once (DynamoDBServer.Stop).
type frontDoor struct {
	l     net.Listener
	mu    sync.Mutex
	conns map[net.Conn]struct{}
	wg    sync.WaitGroup
}

func openFrontDoor(port, to int) (*frontDoor, error) {
	l, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(port))
	if err != nil {
		return nil, err
	}
	f := &frontDoor{l: l, conns: map[net.Conn]struct{}{}}
	f.wg.Add(1)
	go func() {
		defer f.wg.Done()
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			f.wg.Add(1)
			go func() {
				defer f.wg.Done()
				f.forward(c, to)
			}()
		}
	}()
	return f, nil
}

func (f *frontDoor) forward(c net.Conn, to int) {
	up, err := net.Dial("tcp", "127.0.0.1:"+strconv.Itoa(to))
	if err != nil || !f.track(c, up) {
		_ = c.Close()
		if up != nil {
			_ = up.Close()
		}
		return
	}
	done := make(chan struct{}, 2)
	go func() { _, _ = io.Copy(up, c); done <- struct{}{} }()
	go func() { _, _ = io.Copy(c, up); done <- struct{}{} }()
	<-done
	_ = c.Close()
	_ = up.Close()
	<-done
	f.mu.Lock()
	delete(f.conns, c)
	delete(f.conns, up)
	f.mu.Unlock()
}

// track records both ends of a forwarded connection, or says no once the
// door is closed.
func (f *frontDoor) track(c, up net.Conn) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.conns == nil {
		return false
	}
	f.conns[c], f.conns[up] = struct{}{}, struct{}{}
	return true
}

// close stops accepting and drops every connection, both ends.
func (f *frontDoor) close() {
	_ = f.l.Close()
	f.mu.Lock()
	for c := range f.conns {
		_ = c.Close()
	}
	f.conns = nil
	f.mu.Unlock()
	f.wg.Wait()
}
