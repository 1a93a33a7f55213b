package checks

import (
	"context"
	"net/http"
	"time"
)

// ProbeCheck asks the workload itself (a command in a container, an HTTP
// request). What it answers has no watch, so the engine asks again on every
// change of what the check needs and every reprobe while waiting.
type ProbeCheck interface {
	Check
	Needs() []Resource
	// Probe judges the workload as it answers now; captured is what Capture
	// recorded when the step started ("" if the check records nothing).
	Probe(ctx context.Context, s *State, p Prober, captured string) (ok bool, found string, err error)
}

// Capturer is a check that compares with a value recorded when the step
// starts (the mtime of a pid file before `kill 1`).
type Capturer interface {
	Capture(ctx context.Context, s *State, p Prober) (string, error)
}

// reprobe is how often a probing check asks again while it waits.
const reprobe = 2 * time.Second

// ExecRequest is a command to run in a container.
type ExecRequest struct {
	Namespace, Pod, Container string
	Command                   []string
}

// ExecResult is what the command printed and how it ended.
type ExecResult struct {
	Stdout, Stderr string
	ExitCode       int
}

// HTTPRequest is a GET to a Service (or a pod) through the API server.
type HTTPRequest struct {
	Namespace string
	Service   string // or Pod
	Pod       string
	Port      string // "" for the Service's first port
	Path      string
}

// HTTPResponse is what came back.
type HTTPResponse struct {
	Status int
	Header http.Header
	Body   string
}
