//go:build !linux

package testenv

import "syscall"

// redisProcAttr has no parent-death signal to offer outside Linux.
func redisProcAttr() *syscall.SysProcAttr { return nil }
