package checks

import (
	"fmt"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
)

type terminatedReasonParams struct {
	Selector  string `json:"selector"`
	Container string `json:"container,omitempty"`
	Reason    string `json:"reason"`
}

func terminatedReasonType() Type {
	return Type{
		Name:   "terminated-reason",
		Fields: "`selector`, `reason`, `container` (optional)",
		Passes: "a matching container's last (or current) termination has this reason, e.g. `OOMKilled`; pods that have finished (`restartPolicy: Never`, a Job's) count, their last state is the evidence",
		Example: `- type: terminated-reason
  selector: app=hog
  reason: OOMKilled`,
		compile: typed(func(p terminatedReasonParams, _ time.Duration) (Check, error) {
			if err := requireSelector(p.Selector); err != nil {
				return nil, err
			}
			if err := require("reason", p.Reason); err != nil {
				return nil, err
			}
			return &terminatedReason{selector: p.Selector, container: p.Container, reason: p.Reason}, nil
		}),
	}
}

// terminatedReason: a container's last (or current) termination has the
// given reason, e.g. OOMKilled.
type terminatedReason struct {
	selector  string
	container string
	reason    string
}

func (c *terminatedReason) Expected() string {
	return fmt.Sprintf("a container in a pod matching %s was terminated with reason %s", c.selector, c.reason)
}

func (c *terminatedReason) Needs() []Resource { return []Resource{podResource()} }

func (c *terminatedReason) Concern() Concern { return Concern{Selector: c.selector} }

func (c *terminatedReason) Evaluate(s *State) (bool, string) {
	// Finished pods too: a killed container of a `restartPolicy: Never`
	// pod leaves its pod Failed, and the kubelet may report the container's
	// termination and the pod's phase in one update. Not a pod being
	// deleted, nor one that had finished before the step began.
	var pods []*corev1.Pod
	for _, p := range s.PodsWith(c.selector) {
		finished := p.Status.Phase == corev1.PodSucceeded || p.Status.Phase == corev1.PodFailed
		if _, before := s.Baseline.pod(string(p.UID)); p.DeletionTimestamp != nil || finished && before {
			continue
		}
		pods = append(pods, p)
	}
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
