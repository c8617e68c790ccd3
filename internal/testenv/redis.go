package testenv

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// EnvRedisServer names the redis-server binary to run; without it Redis
// looks for redis-server on PATH.
const EnvRedisServer = "TASKAPI_REDIS_SERVER"

// redisStartTimeout bounds how long a fresh redis-server may take to answer
// PING (it takes milliseconds; the margin is for a busy machine).
const redisStartTimeout = 10 * time.Second

// redisDefaultPort is never used: a developer's own Redis may live there.
const redisDefaultPort = 6379

// RedisServer is a private, empty, non-persistent redis-server owned by one
// test, listening on a loopback port that stays the same across Restart, so
// tests can hang it (Pause), kill it and bring it back.
type RedisServer struct {
	bin, dir string
	port     int

	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{} // closed when cmd has exited
	logs *logBuffer
}

// Redis starts a redis-server ($TASKAPI_REDIS_SERVER, else redis-server from
// PATH) on a free loopback port with persistence off, waits until it answers
// PING, and stops it when t ends. Without the binary it skips t, or fails it
// when $TASKAPI_TEST_REQUIRE_SERVICES=1.
func Redis(t testing.TB) *RedisServer {
	t.Helper()
	bin := os.Getenv(EnvRedisServer)
	if bin == "" {
		var err error
		if bin, err = exec.LookPath("redis-server"); err != nil {
			unavailable(t, "Redis is not available: redis-server is not on PATH (install it, e.g. apt-get install redis-server, or set "+EnvRedisServer+")")
		}
	} else if _, err := os.Stat(bin); err != nil {
		unavailable(t, fmt.Sprintf("Redis is not available: %s=%s: %v", EnvRedisServer, bin, err))
	}
	s := &RedisServer{bin: bin, dir: t.TempDir()}
	t.Cleanup(func() { _ = s.Kill() })
	var err error
	for range 3 { // another process may take the free port before redis binds it
		if s.port, err = freePort(); err != nil {
			t.Fatalf("redis-server: find a free port: %v", err)
		}
		if s.port == redisDefaultPort {
			continue
		}
		if err = s.start(); err == nil {
			return s
		}
	}
	t.Fatalf("redis-server: %v", err)
	return nil
}

// Addr is the server's host:port, the same across restarts.
func (s *RedisServer) Addr() string { return "127.0.0.1:" + strconv.Itoa(s.port) }

// Pause freezes the server with SIGSTOP: the kernel still accepts
// connections and buffers commands, but nothing is answered, as with a hung
// node or a black-holed network. Resume undoes it.
func (s *RedisServer) Pause() error { return s.signal(syscall.SIGSTOP) }

// Resume lets a paused server run again (SIGCONT); it then answers what was
// sent meanwhile, with the data it had.
func (s *RedisServer) Resume() error { return s.signal(syscall.SIGCONT) }

// Kill ends the server with SIGKILL and waits for it to exit; its data is
// gone and connections are refused until Restart. Killing a stopped server
// does nothing.
func (s *RedisServer) Kill() error {
	s.mu.Lock()
	cmd, done := s.cmd, s.done
	s.cmd = nil
	s.mu.Unlock()
	if cmd == nil {
		return nil
	}
	if err := cmd.Process.Kill(); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return err
	}
	<-done
	return nil
}

// Restart kills the server if it runs and starts an empty one on the same
// port.
func (s *RedisServer) Restart() error {
	if err := s.Kill(); err != nil {
		return err
	}
	return s.start()
}

func (s *RedisServer) signal(sig syscall.Signal) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd == nil {
		return errors.New("redis-server is not running")
	}
	return s.cmd.Process.Signal(sig)
}

func (s *RedisServer) start() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd != nil {
		return errors.New("redis-server is already running")
	}
	cmd := exec.Command(s.bin,
		"--port", strconv.Itoa(s.port),
		"--bind", "127.0.0.1",
		"--save", "",
		"--appendonly", "no",
		"--dir", s.dir,
		"--daemonize", "no",
		"--loglevel", "warning",
	)
	cmd.Dir = s.dir
	cmd.SysProcAttr = redisProcAttr()
	s.logs = &logBuffer{}
	cmd.Stdout, cmd.Stderr = s.logs, s.logs
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start %s: %w", s.bin, err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()

	deadline := time.Now().Add(redisStartTimeout)
	for {
		err := pingRedis(s.Addr(), 500*time.Millisecond)
		if err == nil {
			s.cmd, s.done = cmd, done
			return nil
		}
		select {
		case <-done:
			return fmt.Errorf("exited before answering on port %d: %s", s.port, s.logs.String())
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			_ = cmd.Process.Kill()
			<-done
			return fmt.Errorf("no PONG on port %d after %v: %v; output: %s", s.port, redisStartTimeout, err, s.logs.String())
		}
	}
}

// pingRedis sends PING in the inline protocol and expects +PONG.
func pingRedis(addr string, timeout time.Duration) error {
	c, err := net.DialTimeout("tcp", addr, timeout)
	if err != nil {
		return err
	}
	defer c.Close()
	if err := c.SetDeadline(time.Now().Add(timeout)); err != nil {
		return err
	}
	if _, err := c.Write([]byte("PING\r\n")); err != nil {
		return err
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		return err
	}
	if !strings.HasPrefix(line, "+PONG") {
		return fmt.Errorf("PING answered %q", strings.TrimSpace(line))
	}
	return nil
}
