package checks

import (
	"context"
	"encoding/json"
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
		Example: `- type: exec
  selector: app=web
  command: date -r /run/labapp.pid
  changed: true
- type: exec
  pod: config-demo
  command: [sh, -c, 'echo $GREETING']
  stdout: hello`,
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

// targets are the running pods the command may run in, sorted by name, or
// why there are none.
func (c *execCheck) targets(s *State) ([]*corev1.Pod, string) {
	var out []*corev1.Pod
	for _, p := range s.Pods() {
		if c.p.Pod != "" && p.Name != c.p.Pod {
			continue
		}
		if !c.selector.Matches(labels.Set(p.Labels)) || p.DeletionTimestamp != nil || p.Status.Phase != corev1.PodRunning {
			continue
		}
		for _, cs := range p.Status.ContainerStatuses {
			if (c.p.Container == "" || cs.Name == c.p.Container) && cs.State.Running != nil {
				out = append(out, p)
				break
			}
		}
	}
	if len(out) == 0 {
		return nil, fmt.Sprintf("no running %s in namespace %s", strings.TrimPrefix(c.where(), "a "), s.Namespace)
	}
	return out, ""
}

// maxPods bounds how many pods a `changed` check asks.
const maxPods = 10

func (c *execCheck) run(ctx context.Context, p Prober, pod *corev1.Pod) (ExecResult, string, error) {
	if p == nil {
		return ExecResult{}, "", fmt.Errorf("exec checks need a cluster")
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

// Capture records, for `changed`, what the command prints in each running
// pod as the step starts (as JSON, pod name to output): the learner may act
// on any of them.
func (c *execCheck) Capture(ctx context.Context, s *State, p Prober) (string, error) {
	if !c.p.Changed {
		return "", nil
	}
	pods, _ := c.targets(s)
	seen := map[string]string{}
	for _, pod := range pods[:min(len(pods), maxPods)] {
		res, why, err := c.run(ctx, p, pod)
		if err != nil {
			return "", err
		}
		if why == "" && res.ExitCode == c.exitCode {
			seen[pod.Name] = strings.TrimSpace(res.Stdout)
		}
	}
	b, err := json.Marshal(seen)
	return string(b), err
}

func (c *execCheck) Probe(ctx context.Context, s *State, p Prober, captured string) (bool, string, error) {
	pods, why := c.targets(s)
	if pods == nil {
		return false, why, nil
	}
	if c.p.Changed {
		return c.probeChanged(ctx, p, pods, captured)
	}
	res, why, err := c.run(ctx, p, pods[0])
	if err != nil || why != "" {
		return false, why, err
	}
	return c.judge(res)
}

// judge compares one run's outcome with what the check asks.
func (c *execCheck) judge(res ExecResult) (bool, string, error) {
	out := strings.TrimSpace(res.Stdout)
	shown := quoteShort(out)
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
	}
	return true, "it printed " + shown, nil
}

// probeChanged passes when a pod that was there when the step started now
// prints something else (and otherwise what the check asks).
func (c *execCheck) probeChanged(ctx context.Context, p Prober, pods []*corev1.Pod, captured string) (bool, string, error) {
	before := map[string]string{}
	if captured != "" {
		if err := json.Unmarshal([]byte(captured), &before); err != nil {
			before = map[string]string{}
		}
	}
	var same []string
	for _, pod := range pods[:min(len(pods), maxPods)] {
		was, known := before[pod.Name]
		if !known {
			continue
		}
		res, why, err := c.run(ctx, p, pod)
		if err != nil {
			return false, "", err
		}
		if why != "" {
			same = append(same, why)
			continue
		}
		ok, found, _ := c.judge(res)
		out := strings.TrimSpace(res.Stdout)
		switch {
		case out == was:
			same = append(same, fmt.Sprintf("pod %s prints %s, as when the step started", pod.Name, quoteShort(out)))
		case !ok:
			same = append(same, fmt.Sprintf("pod %s: %s", pod.Name, found))
		default:
			return true, fmt.Sprintf("pod %s prints %s (was %s)", pod.Name, quoteShort(out), quoteShort(was)), nil
		}
	}
	if len(same) == 0 {
		return false, "none of the pods running when the step started is running now", nil
	}
	return false, strings.Join(same, "; "), nil
}

func quoteShort(s string) string {
	q := fmt.Sprintf("%q", s)
	if len(q) > 200 {
		q = q[:200] + "..."
	}
	return q
}

func firstLine(s string) string {
	l, _, _ := strings.Cut(s, "\n")
	return l
}
