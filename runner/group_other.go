//go:build !unix

package runner

import "syscall"

func newGroup() *syscall.SysProcAttr { return nil }

func killGroup(int) {}

func newSession() *syscall.SysProcAttr { return nil }
