package checks

import (
	"fmt"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
)

// Check is a compiled spec. It is either a StateCheck, judged on every
// change of the namespace, or an ActiveCheck, which measures something by
// acting (running load during a rollout).
type Check interface {
	// Expected says, in one clause, what must hold ("Deployment web has 3
	// available replicas").
	Expected() string
}

// StateCheck judges a snapshot of the namespace.
type StateCheck interface {
	Check
	// Evaluate reports whether the state satisfies the check and, either
	// way, what was found, in words a learner can act on.
	Evaluate(s *State) (ok bool, found string)
}

// deploymentAvailable: status.availableReplicas of a Deployment equals N.
type deploymentAvailable struct {
	name     string
	replicas int32
}

func newDeploymentAvailable(s Spec) (Check, error) {
	if err := require("name", s.Name); err != nil {
		return nil, err
	}
	if s.Replicas == nil {
		return nil, fmt.Errorf("field %q is required", "replicas")
	}
	return &deploymentAvailable{name: s.Name, replicas: *s.Replicas}, nil
}

func (c *deploymentAvailable) Expected() string {
	return fmt.Sprintf("Deployment %s has %d available replicas", c.name, c.replicas)
}

func (c *deploymentAvailable) Evaluate(s *State) (bool, string) {
	d := s.Deployment(c.name)
	if d == nil {
		return false, fmt.Sprintf("no Deployment %s in namespace %s", c.name, s.Namespace)
	}
	want := int32(1)
	if d.Spec.Replicas != nil {
		want = *d.Spec.Replicas
	}
	found := fmt.Sprintf("%d available (%d desired, %d updated, %d ready)", d.Status.AvailableReplicas, want, d.Status.UpdatedReplicas, d.Status.ReadyReplicas)
	return d.Status.AvailableReplicas == c.replicas && d.Status.ObservedGeneration >= d.Generation, found
}

// podCount: the number of live pods matching a selector equals N.
type podCount struct {
	selector string
	count    int
}

func newPodCount(s Spec) (Check, error) {
	if err := require("selector", s.Selector); err != nil {
		return nil, err
	}
	if s.Count == nil {
		return nil, fmt.Errorf("field %q is required", "count")
	}
	return &podCount{selector: s.Selector, count: *s.Count}, nil
}

func (c *podCount) Expected() string {
	return fmt.Sprintf("%d running pods match %s", c.count, c.selector)
}

func (c *podCount) Evaluate(s *State) (bool, string) {
	pods := s.PodsMatching(c.selector)
	running := 0
	for _, p := range pods {
		if p.Status.Phase == corev1.PodRunning {
			running++
		}
	}
	return running == c.count && len(pods) == c.count, fmt.Sprintf("%d pods (%d running): %s", len(pods), running, podList(pods))
}

// podReplaced: a pod that existed at the step's start is gone and a new one,
// with a UID the baseline has not seen, runs in its place.
type podReplaced struct{ selector string }

func newPodReplaced(s Spec) (Check, error) {
	if err := require("selector", s.Selector); err != nil {
		return nil, err
	}
	return &podReplaced{selector: s.Selector}, nil
}

func (c *podReplaced) Expected() string {
	return fmt.Sprintf("a pod matching %s was replaced by a new one (new UID) since the step started", c.selector)
}

func (c *podReplaced) Evaluate(s *State) (bool, string) {
	before := s.Baseline.matching(c.selector)
	if len(before) == 0 {
		return false, fmt.Sprintf("no pods matched %s when the step started, so none could be replaced", c.selector)
	}
	now := s.PodsMatching(c.selector)
	alive := map[string]bool{}
	var fresh []string
	for _, p := range now {
		uid := string(p.UID)
		alive[uid] = true
		if _, old := before[uid]; !old && p.Status.Phase == corev1.PodRunning {
			fresh = append(fresh, p.Name)
		}
	}
	var gone []string
	for uid, r := range before {
		if !alive[uid] {
			gone = append(gone, r.Name)
		}
	}
	sort.Strings(gone)
	switch {
	case len(gone) == 0:
		return false, fmt.Sprintf("the same %d pods as at the start of the step (no UID changed)", len(before))
	case len(fresh) == 0:
		return false, fmt.Sprintf("%s gone, but no new pod is running yet", strings.Join(gone, ", "))
	}
	return true, fmt.Sprintf("%s gone, new %s running", strings.Join(gone, ", "), strings.Join(fresh, ", "))
}

// restarted: a container's restartCount grew since the step started. A pod
// the baseline has not seen counts from zero.
type restarted struct {
	selector  string
	container string
}

func newRestarted(s Spec) (Check, error) {
	if err := require("selector", s.Selector); err != nil {
		return nil, err
	}
	return &restarted{selector: s.Selector, container: s.Container}, nil
}

func (c *restarted) Expected() string {
	what := "a container"
	if c.container != "" {
		what = "container " + c.container
	}
	return fmt.Sprintf("%s in a pod matching %s restarted since the step started", what, c.selector)
}

func (c *restarted) Evaluate(s *State) (bool, string) {
	before := s.Baseline.matching(c.selector)
	pods := s.PodsMatching(c.selector)
	if len(pods) == 0 {
		return false, fmt.Sprintf("no pods match %s", c.selector)
	}
	var seen []string
	for _, pc := range containersOf(pods, c.container) {
		p, cs := pc.pod, pc.status
		was := before[string(p.UID)].Restarts[cs.Name]
		if cs.RestartCount > was {
			return true, fmt.Sprintf("%s/%s restarts %d -> %d", p.Name, cs.Name, was, cs.RestartCount)
		}
		seen = append(seen, fmt.Sprintf("%s/%s restarts %d", p.Name, cs.Name, cs.RestartCount))
	}
	if len(seen) == 0 {
		return false, fmt.Sprintf("no container %q in pods matching %s", c.container, c.selector)
	}
	return false, "no restart since the step started: " + strings.Join(seen, ", ")
}

// terminatedReason: a container's last (or current) termination has the
// given reason, e.g. OOMKilled.
type terminatedReason struct {
	selector  string
	container string
	reason    string
}

func newTerminatedReason(s Spec) (Check, error) {
	if err := require("selector", s.Selector); err != nil {
		return nil, err
	}
	if err := require("reason", s.Reason); err != nil {
		return nil, err
	}
	return &terminatedReason{selector: s.Selector, container: s.Container, reason: s.Reason}, nil
}

func (c *terminatedReason) Expected() string {
	return fmt.Sprintf("a container in a pod matching %s was terminated with reason %s", c.selector, c.reason)
}

func (c *terminatedReason) Evaluate(s *State) (bool, string) {
	pods := s.PodsMatching(c.selector)
	if len(pods) == 0 {
		return false, fmt.Sprintf("no pods match %s", c.selector)
	}
	var seen []string
	for _, pc := range containersOf(pods, c.container) {
		p, cs := pc.pod, pc.status
		for _, t := range []*corev1.ContainerStateTerminated{cs.LastTerminationState.Terminated, cs.State.Terminated} {
			if t == nil {
				continue
			}
			if t.Reason == c.reason {
				return true, fmt.Sprintf("%s/%s terminated: %s (exit code %d)", p.Name, cs.Name, t.Reason, t.ExitCode)
			}
			seen = append(seen, fmt.Sprintf("%s/%s %s (exit code %d)", p.Name, cs.Name, t.Reason, t.ExitCode))
		}
	}
	if len(seen) == 0 {
		return false, fmt.Sprintf("no container matching %s has terminated yet: %s", c.selector, podList(pods))
	}
	return false, "terminations seen: " + strings.Join(seen, ", ")
}

// probe: the pod template of a Deployment (name) or the pods matching a
// selector configure a probe of a kind (liveness, readiness, startup),
// optionally with a handler (httpGet, exec, tcpSocket, grpc).
type probe struct {
	name, selector string
	container      string
	kind, handler  string
}

func newProbe(s Spec) (Check, error) {
	if (s.Name == "") == (s.Selector == "") {
		return nil, fmt.Errorf("set exactly one of %q (a Deployment) or %q (pods)", "name", "selector")
	}
	switch s.Probe {
	case "liveness", "readiness", "startup":
	default:
		return nil, fmt.Errorf("field %q must be liveness, readiness or startup, not %q", "probe", s.Probe)
	}
	switch s.Handler {
	case "", "httpGet", "exec", "tcpSocket", "grpc":
	default:
		return nil, fmt.Errorf("field %q must be httpGet, exec, tcpSocket or grpc, not %q", "handler", s.Handler)
	}
	return &probe{name: s.Name, selector: s.Selector, container: s.Container, kind: s.Probe, handler: s.Handler}, nil
}

func (c *probe) Expected() string {
	what := "a " + c.kind + " probe"
	if c.handler != "" {
		what = fmt.Sprintf("a %s probe of type %s", c.kind, c.handler)
	}
	if c.name != "" {
		return fmt.Sprintf("Deployment %s configures %s", c.name, what)
	}
	return fmt.Sprintf("pods matching %s configure %s", c.selector, what)
}

func (c *probe) Evaluate(s *State) (bool, string) {
	var specs []corev1.PodSpec
	if c.name != "" {
		d := s.Deployment(c.name)
		if d == nil {
			return false, fmt.Sprintf("no Deployment %s in namespace %s", c.name, s.Namespace)
		}
		specs = append(specs, d.Spec.Template.Spec)
	} else {
		for _, p := range s.PodsMatching(c.selector) {
			specs = append(specs, p.Spec)
		}
		if len(specs) == 0 {
			return false, fmt.Sprintf("no pods match %s", c.selector)
		}
	}
	var seen []string
	for _, spec := range specs {
		ok := false
		for _, ctr := range spec.Containers {
			if c.container != "" && ctr.Name != c.container {
				continue
			}
			pr := map[string]*corev1.Probe{"liveness": ctr.LivenessProbe, "readiness": ctr.ReadinessProbe, "startup": ctr.StartupProbe}[c.kind]
			h := handlerOf(pr)
			seen = append(seen, fmt.Sprintf("container %s: %s", ctr.Name, describeProbes(ctr)))
			if pr != nil && (c.handler == "" || c.handler == h) {
				ok = true
			}
		}
		if !ok {
			return false, strings.Join(seen, "; ")
		}
	}
	return true, strings.Join(seen, "; ")
}

func handlerOf(p *corev1.Probe) string {
	switch {
	case p == nil:
		return ""
	case p.HTTPGet != nil:
		return "httpGet"
	case p.Exec != nil:
		return "exec"
	case p.TCPSocket != nil:
		return "tcpSocket"
	case p.GRPC != nil:
		return "grpc"
	}
	return "unknown"
}

func describeProbes(c corev1.Container) string {
	var parts []string
	for _, kp := range []struct {
		kind string
		p    *corev1.Probe
	}{{"liveness", c.LivenessProbe}, {"readiness", c.ReadinessProbe}, {"startup", c.StartupProbe}} {
		if kp.p != nil {
			parts = append(parts, kp.kind+"="+handlerOf(kp.p))
		}
	}
	if len(parts) == 0 {
		return "no probes"
	}
	return strings.Join(parts, ", ")
}

// podList renders pods as "name (Phase, restarts N)" for found-messages.
func podList(pods []*corev1.Pod) string {
	if len(pods) == 0 {
		return "none"
	}
	var parts []string
	for _, p := range pods {
		var restarts int32
		for _, cs := range p.Status.ContainerStatuses {
			restarts += cs.RestartCount
		}
		parts = append(parts, fmt.Sprintf("%s (%s, restarts %d)", p.Name, PodPhase(p), restarts))
	}
	return strings.Join(parts, ", ")
}

// PodPhase is the phase kubectl would show: a waiting reason such as
// CrashLoopBackOff or ImagePullBackOff wins over the bare phase.
func PodPhase(p *corev1.Pod) string {
	if p.DeletionTimestamp != nil {
		return "Terminating"
	}
	for _, cs := range p.Status.ContainerStatuses {
		if w := cs.State.Waiting; w != nil && w.Reason != "" {
			return w.Reason
		}
		if t := cs.State.Terminated; t != nil && t.Reason != "" {
			return t.Reason
		}
	}
	return string(p.Status.Phase)
}
