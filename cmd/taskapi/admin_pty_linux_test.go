package main_test

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// openPTY returns a pseudo-terminal's master and its terminal end.
func openPTY(t *testing.T) (master, tty *os.File) {
	t.Helper()
	master, err := os.OpenFile("/dev/ptmx", os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("no pseudo-terminals here: %v", err)
	}
	t.Cleanup(func() { master.Close() })
	if err := unix.IoctlSetPointerInt(int(master.Fd()), unix.TIOCSPTLCK, 0); err != nil {
		t.Fatal(err)
	}
	n, err := unix.IoctlGetInt(int(master.Fd()), unix.TIOCGPTN)
	if err != nil {
		t.Fatal(err)
	}
	tty, err = os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tty.Close() })
	return master, tty
}

// screen is what the terminal shows: everything written to its master.
type screen struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (s *screen) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.Write(p)
}

func (s *screen) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.String()
}

// waitFor polls until cond holds; the deadline only catches a hang.
func waitFor(t *testing.T, what string, cond func() bool, done <-chan struct{}) {
	t.Helper()
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if cond() {
			return
		}
		select {
		case <-done:
			if cond() {
				return
			}
			t.Fatalf("create-admin exited before %s", what)
		default:
		}
	}
	t.Fatalf("gave up waiting for %s", what)
}

// TestCreateAdminPromptsWithoutEcho types the password at a real
// terminal, as a person would: it is asked twice and never shown.
func TestCreateAdminPromptsWithoutEcho(t *testing.T) {
	for _, tc := range []struct {
		name          string
		first, second string
		code          int
		stdout        string
		screen        string
	}{
		{"OK", "r00t!pw", "r00t!pw", 0, "created admin VAH", ""},
		{"ErrPasswordsDiffer", "r00t!pw", "r00t!pX", 1, "", "the two passwords differ: nothing changed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			master, tty := openPTY(t)
			var shown screen
			go func() { _, _ = bytesCopy(&shown, master) }()
			cmd := exec.Command(bin, "create-admin", "-email", "root@example.com")
			cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "DATA_DIR=" + t.TempDir()}
			var stdout bytes.Buffer
			cmd.Stdin, cmd.Stdout, cmd.Stderr = tty, &stdout, tty
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			done := make(chan struct{})
			var waitErr error
			go func() { waitErr = cmd.Wait(); close(done) }()
			t.Cleanup(func() { _ = cmd.Process.Kill(); <-done })

			// Type only once the prompt is up and echo is off, as a person
			// would: what arrives earlier is echoed by the terminal itself.
			echoOff := func() bool {
				tio, err := unix.IoctlGetTermios(int(tty.Fd()), unix.TCGETS)
				return err == nil && tio.Lflag&unix.ECHO == 0
			}
			for _, step := range []struct{ prompt, typed string }{
				{"Password for root@example.com: ", tc.first},
				{"The same password again: ", tc.second},
			} {
				waitFor(t, "the prompt "+step.prompt, func() bool { return strings.Contains(shown.String(), step.prompt) }, done)
				waitFor(t, "echo to be off", echoOff, done)
				if _, err := master.Write([]byte(step.typed + "\n")); err != nil {
					t.Fatal(err)
				}
			}
			<-done
			code := 0
			var ee *exec.ExitError
			if errors.As(waitErr, &ee) {
				code = ee.ExitCode()
			}
			if code != tc.code || !strings.Contains(stdout.String(), tc.stdout) {
				t.Fatalf("exit %d (want %d), stdout %q, terminal:\n%s", code, tc.code, stdout.String(), shown.String())
			}
			waitFor(t, "the terminal's last line", func() bool { return strings.Contains(shown.String(), tc.screen) }, nil)
			if s := shown.String(); strings.Contains(s, "r00t") {
				t.Fatalf("the password was echoed:\n%s", s)
			}
		})
	}
}

func bytesCopy(dst *screen, src *os.File) (int64, error) {
	buf := make([]byte, 4096)
	var n int64
	for {
		k, err := src.Read(buf)
		if k > 0 {
			_, _ = dst.Write(buf[:k])
			n += int64(k)
		}
		if err != nil {
			return n, err
		}
	}
}
