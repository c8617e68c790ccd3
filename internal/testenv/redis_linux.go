package testenv

import "syscall"

// redisProcAttr makes the kernel kill redis-server if the test process dies
// without running its cleanups (a test timeout, a crash).
func redisProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
