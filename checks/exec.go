package checks

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"
)

type execParams struct {
	Pod       string  `json:"pod,omitempty"`
	Selector  string  `json:"selector,omitempty"`
	Container string  `json:"container,omitempty"`
	Command   any     `json:"command"`
	Stdout    *string `json:"stdout,omitempty"`
	Match     string  `json:"match,omitempty"`
	Changed   bool    `json:"changed,omitempty"`
	ExitCode  *int    `json:"exitCode,omitempty"`
}

func execType() Type {
	return Type{
		Name:   "exec",
		Fields: "`pod` or `selector` (the first running pod), `container` (optional), `command` (a string run by `sh -c`, or a list), and what must hold: `stdout` (equals, trimmed), `match` (regex), `changed: true` (differs from its value when the step started) and/or `exitCode` (default 0)",
		Passes: "the command, run in the container through the API server (as `kubectl exec`), ends with the exit code and prints what is asked. Asked again on every change of the pods and every 2 s while waiting (a file has no watch)",
		compile: typed(func(p execParams, _ time.Duration) (Check, error) {
			return newExec(p)
		}),
	}
}

// execCheck: what a command prints in a pod's container.
type execCheck struct {
	p        execParams
	command  []string
	selector labels.Selector
	match    *regexp.Regexp
	exitCode int
}

func newExec(p execParams) (Check, error) {
	if (p.Pod == "") == (p.Selector == "") {
		return nil, fmt.Errorf("set exactly one of %q or %q", "pod", "selector")
	}
	c := &execCheck{p: p, selector: labels.Everything()}
	switch cmd := p.Command.(type) {
	case string:
		if strings.TrimSpace(cmd) == "" {
			return nil, fmt.Errorf("field %q is empty", "command")
		}
		c.command = []string{"sh", "-c", cmd}
	case []any:
		for _, a := range cmd {
			s, ok := a.(string)
			if !ok {
				return nil, fmt.Errorf("field %q must be a string or a list of strings", "command")
			}
			c.command = append(c.command, s)
		}
		if len(c.command) == 0 {
			return nil, fmt.Errorf("field %q is empty", "command")
		}
	default:
		return nil, fmt.Errorf("field %q is required: a string run by sh -c, or a list", "command")
	}
	if p.Selector != "" {
		var err error
		if c.selector, err = labels.Parse(p.Selector); err != nil {
			return nil, fmt.Errorf("selector %q: %w", p.Selector, err)
		}
	}
	if p.Match != "" {
		var err error
		if c.match, err = regexp.Compile(p.Match); err != nil {
			return nil, fmt.Errorf("field %q is not a regular expression: %v", "match", err)
		}
	}
	if p.Stdout != nil && p.Match != "" {
		return nil, fmt.Errorf("set %q or %q, not both", "stdout", "match")
	}
	if p.Stdout == nil && p.Match == "" && !p.Changed && p.ExitCode == nil {
		return nil, fmt.Errorf("say what must hold: %q, %q, %q or %q", "stdout", "match", "changed", "exitCode")
	}
	if p.ExitCode != nil {
		c.exitCode = *p.ExitCode
	}
	return c, nil
}

func (c *execCheck) Needs() []Resource { return []Resource{podResource()} }

func (c *execCheck) Concern() Concern { return Concern{Selector: c.p.Selector} }

func (c *execCheck) where() string {
	if c.p.Pod != "" {
		return "pod " + c.p.Pod
	}
	return "a pod matching " + c.p.Selector
}

func (c *execCheck) cmdText() string {
	if len(c.command) == 3 && c.command[0] == "sh" && c.command[1] == "-c" {
		return c.command[2]
	}
	return strings.Join(c.command, " ")
}

func (c *execCheck) Expected() string {
	var what []string
	switch {
	case c.p.Stdout != nil:
		what = append(what, fmt.Sprintf("prints %q", *c.p.Stdout))
	case c.match != nil:
		what = append(what, fmt.Sprintf("prints something matching %q", c.p.Match))
	}
	if c.p.Changed {
		what = append(what, "prints something else than when the step started")
	}
	if c.exitCode != 0 || len(what) == 0 {
		what = append(what, fmt.Sprintf("exits with %d", c.exitCode))
	}
	return fmt.Sprintf("in %s, `%s` %s", c.where(), c.cmdText(), strings.Join(what, " and "))
}

// target is the running pod the command runs in, or why there is none.
func (c *execCheck) target(s *State) (*corev1.Pod, string) {
	for _, p := range s.Pods() {
		if c.p.Pod != "" && p.Name != c.p.Pod {
			continue
		}
		if !c.selector.Matches(labels.Set(p.Labels)) || p.DeletionTimestamp != nil || p.Status.Phase != corev1.PodRunning {
			continue
		}
		for _, cs := range p.Status.ContainerStatuses {
			if (c.p.Container == "" || cs.Name == c.p.Container) && cs.State.Running != nil {
				return p, ""
			}
		}
	}
	return nil, fmt.Sprintf("no running %s in namespace %s", strings.TrimPrefix(c.where(), "a "), s.Namespace)
}

func (c *execCheck) run(ctx context.Context, s *State, p Prober) (ExecResult, string, error) {
	if p == nil {
		return ExecResult{}, "", fmt.Errorf("exec checks need a cluster")
	}
	pod, why := c.target(s)
	if pod == nil {
		return ExecResult{}, why, nil
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	res, err := p.Exec(ctx, ExecRequest{Namespace: pod.Namespace, Pod: pod.Name, Container: c.p.Container, Command: c.command})
	if err != nil {
		if ctx.Err() != nil && ctx.Err() != context.DeadlineExceeded {
			return ExecResult{}, "", ctx.Err()
		}
		return ExecResult{}, fmt.Sprintf("the command could not run in pod %s: %v", pod.Name, err), nil
	}
	return res, "", nil
}

func (c *execCheck) Capture(ctx context.Context, s *State, p Prober) (string, error) {
	if !c.p.Changed {
		return "", nil
	}
	res, why, err := c.run(ctx, s, p)
	if err != nil || why != "" {
		return "", err
	}
	return strings.TrimSpace(res.Stdout), nil
}

func (c *execCheck) Probe(ctx context.Context, s *State, p Prober, captured string) (bool, string, error) {
	res, why, err := c.run(ctx, s, p)
	if err != nil || why != "" {
		return false, why, err
	}
	out := strings.TrimSpace(res.Stdout)
	shown := fmt.Sprintf("%q", out)
	if len(shown) > 200 {
		shown = shown[:200] + "..."
	}
	switch {
	case res.ExitCode != c.exitCode:
		msg := fmt.Sprintf("exit code %d", res.ExitCode)
		if e := strings.TrimSpace(res.Stderr); e != "" {
			msg += ": " + firstLine(e)
		}
		return false, msg, nil
	case c.p.Stdout != nil && out != strings.TrimSpace(*c.p.Stdout):
		return false, "it printed " + shown, nil
	case c.match != nil && !c.match.MatchString(out):
		return false, "it printed " + shown, nil
	case c.p.Changed && out == captured:
		return false, fmt.Sprintf("it prints %s, as when the step started", shown), nil
	}
	found := "it printed " + shown
	if c.p.Changed {
		found += fmt.Sprintf(" (was %q)", captured)
	}
	return true, found, nil
}

func firstLine(s string) string {
	l, _, _ := strings.Cut(s, "\n")
	return l
}
