//go:build unix

package runner

import "syscall"

// newGroup starts a process in a process group of its own.
func newGroup() *syscall.SysProcAttr { return &syscall.SysProcAttr{Setpgid: true} }

// killGroup kills process group pgid (a script and what it started); one
// already gone is fine.
func killGroup(pgid int) { _ = syscall.Kill(-pgid, syscall.SIGKILL) }

// newSession starts a process in a session of its own: it outlives the
// command that started it and its terminal (the event sender).
func newSession() *syscall.SysProcAttr { return &syscall.SysProcAttr{Setsid: true} }
