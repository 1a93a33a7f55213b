package checks

import (
	"fmt"
	"strings"
	"time"
)

type containerParams struct {
	Selector  string `json:"selector"`
	Container string `json:"container,omitempty"`
}

func restartedType() Type {
	return Type{
		Name:   "restarted",
		Fields: "`selector`, `container` (optional)",
		Passes: "a matching container's `restartCount` is higher than at the baseline (a pod the baseline has not seen counts from 0)",
		Example: `- type: restarted
  selector: app=web
  container: web`,
		compile: typed(func(p containerParams, _ time.Duration) (Check, error) {
			if err := requireSelector(p.Selector); err != nil {
				return nil, err
			}
			return &restarted{selector: p.Selector, container: p.Container}, nil
		}),
	}
}

// restarted: a container's restartCount grew since the step started. A pod
// the baseline has not seen counts from zero.
type restarted struct {
	selector  string
	container string
}

func (c *restarted) Expected() string {
	what := "a container"
	if c.container != "" {
		what = "container " + c.container
	}
	return fmt.Sprintf("%s in a pod matching %s restarted since the step started", what, c.selector)
}

func (c *restarted) Needs() []Resource { return []Resource{podResource()} }

func (c *restarted) Concern() Concern { return Concern{Selector: c.selector} }

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
