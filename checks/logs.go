package checks

import (
	"context"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"
)

// LogsRequest is one container's log to read.
type LogsRequest struct {
	Namespace, Pod, Container string
	// Previous reads the container's previous run (before its restart).
	Previous bool
	// Since, when set, leaves out what was printed before it.
	Since time.Time
}

type logsParams struct {
	Pod       string `json:"pod,omitempty"`
	Selector  string `json:"selector,omitempty"`
	Container string `json:"container,omitempty"`
	Match     string `json:"match"`
	Count     *int   `json:"count,omitempty"`
	Min       *int   `json:"min,omitempty"`
	Previous  bool   `json:"previous,omitempty"`
	SinceStep bool   `json:"sinceStep,omitempty"`
}

// maxLogPods bounds how many pods' logs one evaluation reads.
const maxLogPods = 20

func logsType() Type {
	return Type{
		Name:   "logs",
		Fields: "`pod` or `selector` (every pod it selects, finished ones too: a Job's), `container` (optional: the first; an init container by name), `match` (a regex, per line), `count` (exactly that many matching lines) or `min` (at least; default 1), `previous: true` (the container's run before its last restart), `sinceStep: true` (only lines printed since the step began)",
		Passes: "the containers' logs, read through the API server as `kubectl logs` does, hold that many lines matching `match`, counted over every selected pod. Asked again on every change of the pods and every 2 s while waiting",
		Example: `- type: logs
  description: the Job's five pods each printed hello world
  selector: job-name=hello
  match: ^hello world$
  count: 5
- type: logs
  pod: init-demo
  container: prepare
  match: config written
  sinceStep: true`,
		compile: typed(func(p logsParams, _ time.Duration) (Check, error) {
			return newLogs(p)
		}),
	}
}

// logsCheck: what containers printed.
type logsCheck struct {
	p        logsParams
	selector labels.Selector
	match    *regexp.Regexp
}

func newLogs(p logsParams) (Check, error) {
	if (p.Pod == "") == (p.Selector == "") {
		return nil, fmt.Errorf("set exactly one of %q or %q", "pod", "selector")
	}
	c := &logsCheck{p: p, selector: labels.Everything()}
	var err error
	if p.Selector != "" {
		if c.selector, err = labels.Parse(p.Selector); err != nil {
			return nil, fmt.Errorf("selector %q: %w", p.Selector, err)
		}
	}
	if err := require("match", p.Match); err != nil {
		return nil, err
	}
	if c.match, err = regexp.Compile(p.Match); err != nil {
		return nil, fmt.Errorf("field %q is not a regular expression: %v", "match", err)
	}
	if p.Count != nil && p.Min != nil {
		return nil, fmt.Errorf("set %q or %q, not both", "count", "min")
	}
	for _, f := range []struct {
		name string
		v    *int
	}{{"count", p.Count}, {"min", p.Min}} {
		if f.v != nil && *f.v < 0 {
			return nil, fmt.Errorf("field %q must not be negative, got %d", f.name, *f.v)
		}
	}
	return c, nil
}

func (c *logsCheck) Needs() []Resource { return []Resource{podResource()} }

func (c *logsCheck) Concern() Concern { return Concern{Selector: c.p.Selector} }

func (c *logsCheck) History() string {
	if c.p.SinceStep {
		return "it reads only what was printed since the step began"
	}
	return ""
}

func (c *logsCheck) where() string {
	w := "pod " + c.p.Pod
	if c.p.Selector != "" {
		w = "the pods matching " + c.p.Selector
	}
	if c.p.Container != "" {
		w += " (container " + c.p.Container + ")"
	}
	if c.p.Previous {
		w += ", their previous run,"
	}
	return w
}

func (c *logsCheck) want() string {
	switch {
	case c.p.Count != nil:
		return fmt.Sprintf("exactly %d %s", *c.p.Count, plural(*c.p.Count, "line", "lines"))
	case c.p.Min != nil:
		return fmt.Sprintf("at least %d %s", *c.p.Min, plural(*c.p.Min, "line", "lines"))
	}
	return "a line"
}

func (c *logsCheck) Expected() string {
	since := ""
	if c.p.SinceStep {
		since = " since the step began"
	}
	return fmt.Sprintf("%s printed %s matching %q%s", c.where(), c.want(), c.p.Match, since)
}

// pods are the selected pods whose container has run (logs exist),
// sorted by name, and why the others were left out.
func (c *logsCheck) pods(s *State) (out []*corev1.Pod, skipped []string) {
	for _, p := range s.Pods() {
		if c.p.Pod != "" && p.Name != c.p.Pod || !c.selector.Matches(labels.Set(p.Labels)) {
			continue
		}
		if !c.hasRun(p) {
			skipped = append(skipped, fmt.Sprintf("pod %s has not run it yet (%s)", p.Name, PodPhase(p)))
			continue
		}
		out = append(out, p)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, skipped
}

// container is the container whose log is read: the one named, else the
// pod's first (the API server wants a name when a pod has several).
func (c *logsCheck) container(p *corev1.Pod) string {
	if c.p.Container == "" && len(p.Spec.Containers) > 0 {
		return p.Spec.Containers[0].Name
	}
	return c.p.Container
}

// hasRun: the container is running or has ended, so it has a log; with
// previous, it has ended once before.
func (c *logsCheck) hasRun(p *corev1.Pod) bool {
	statuses := append(append([]corev1.ContainerStatus{}, p.Status.InitContainerStatuses...), p.Status.ContainerStatuses...)
	name := c.container(p)
	for _, cs := range statuses {
		if cs.Name != name {
			continue
		}
		if c.p.Previous {
			return cs.LastTerminationState.Terminated != nil
		}
		return cs.State.Running != nil || cs.State.Terminated != nil || cs.LastTerminationState.Terminated != nil
	}
	return false
}

func (c *logsCheck) Probe(ctx context.Context, s *State, p Prober, _ string) (bool, string, error) {
	ap, ok := p.(APIProber)
	if !ok {
		return false, "", fmt.Errorf("logs checks need a cluster")
	}
	pods, skipped := c.pods(s)
	if len(pods) == 0 {
		if len(skipped) > 0 {
			return false, strings.Join(skipped, "; "), nil
		}
		return false, fmt.Sprintf("no %s in namespace %s", strings.TrimPrefix(c.where(), "the "), s.Namespace), nil
	}
	var since time.Time
	if c.p.SinceStep && s.Baseline != nil {
		since = s.Baseline.Started
	}
	if len(pods) > maxLogPods {
		skipped = append(skipped, fmt.Sprintf("%d more pods not read (at most %d are)", len(pods)-maxLogPods, maxLogPods))
		pods = pods[:maxLogPods]
	}
	total, perPod, last, unread := 0, []string{}, "", len(skipped)
	for _, pod := range pods {
		rctx, cancel := context.WithTimeout(ctx, 15*time.Second)
		text, err := ap.Logs(rctx, LogsRequest{Namespace: pod.Namespace, Pod: pod.Name, Container: c.container(pod), Previous: c.p.Previous, Since: since})
		cancel()
		if err != nil {
			if ctx.Err() != nil {
				return false, "", ctx.Err()
			}
			skipped = append(skipped, fmt.Sprintf("pod %s: %v", pod.Name, err))
			unread++
			continue
		}
		n := 0
		for _, ln := range strings.Split(strings.TrimRight(text, "\n"), "\n") {
			if c.match.MatchString(ln) {
				n++
			}
			if strings.TrimSpace(ln) != "" {
				last = fmt.Sprintf("pod %s: %s", pod.Name, quoteShort(ln))
			}
		}
		total += n
		if n > 0 {
			perPod = append(perPod, fmt.Sprintf("%s ×%d", pod.Name, n))
		}
	}
	found := fmt.Sprintf("%d %s matching %q", total, plural(total, "line", "lines"), c.p.Match)
	if len(perPod) > 0 {
		found += " (" + strings.Join(perPod, ", ") + ")"
	}
	ok = total >= 1
	switch {
	case c.p.Count != nil:
		// An exact count needs every selected pod's log read.
		ok = total == *c.p.Count && unread == 0
	case c.p.Min != nil:
		ok = total >= *c.p.Min
	}
	if !ok && total == 0 {
		if last != "" {
			found += "; the last line printed: " + last
		} else {
			found += "; nothing printed"
		}
	}
	if len(skipped) > 0 {
		found += "; " + strings.Join(skipped, "; ")
	}
	return ok, found, nil
}
