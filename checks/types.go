package checks

import (
	"context"
	"fmt"
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
	// Concern names the objects the check is about, so a failure's evidence
	// shows those and not the whole namespace.
	Concern() Concern
}

// StateCheck judges a snapshot of what it needs.
type StateCheck interface {
	Check
	// Needs names the kinds (and namespaces) the check reads: the engine
	// watches the union of a step's needs.
	Needs() []Resource
	// Evaluate reports whether the state satisfies the check and, either
	// way, what was found, in words a learner can act on.
	Evaluate(s *State) (ok bool, found string)
}

// ActiveCheck measures by acting, once per evaluation, through a Prober.
type ActiveCheck interface {
	Check
	Measure(ctx context.Context, p Prober) (ok bool, found string, err error)
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

// historical is a check that compares with the moment its step began (the
// baseline) or needs the learner's answer: the state alone cannot judge it.
type historical interface {
	// History says why, or "" when this instance needs no history.
	History() string
}

// NeedsHistory says why a check cannot be judged from the cluster's state
// alone ("" when it can), for `labs grade` without a submission.
func NeedsHistory(s Spec) (string, error) {
	c, err := Compile(s)
	if err != nil {
		return "", err
	}
	if h, ok := c.(historical); ok {
		return h.History(), nil
	}
	return "", nil
}

func (c *availability) History() string {
	return "it acts on the cluster (an action under load), which grading the state must not"
}

// Scripts are the shell scripts a check runs (an availability check's
// `during`), for `labs lint`.
func Scripts(s Spec) []string {
	c, err := Compile(s)
	if err != nil {
		return nil
	}
	if a, ok := c.(*availability); ok && a.req.Action != "" {
		return []string{a.req.Action}
	}
	return nil
}

func (c *podReplaced) History() string {
	return "it compares the pods with those present when the step began"
}

func (c *restarted) History() string { return "it counts restarts since the step began" }

func (c *events) History() string { return "it looks for events new since the step began" }

func (c *answerCheck) History() string { return "it needs the learner's answer (labs answer)" }

func (c *execCheck) History() string {
	if c.p.Changed {
		return "it compares the command's output with its value when the step began"
	}
	return ""
}

func (c *object) History() string {
	progs := make([]*celProgram, 0, len(c.captures)+1)
	if c.expr != nil {
		progs = append(progs, c.expr.celProgram)
	}
	for _, e := range c.captures {
		progs = append(progs, e.celProgram)
	}
	for _, p := range progs {
		switch {
		case p.reads[varBaseline]:
			return "its expression reads the baseline (the state when the step began)"
		case p.reads[varStep]:
			return "its expression reads the step's start (step.started)"
		}
	}
	return ""
}
