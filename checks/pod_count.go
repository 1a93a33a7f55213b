package checks

import (
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
)

type podCountParams struct {
	Selector string `json:"selector"`
	Count    *int   `json:"count"`
}

func podCountType() Type {
	return Type{
		Name:   "pod-count",
		Fields: "`selector`, `count`",
		Passes: "exactly `count` live pods match the label selector, all Running",
		Example: `- type: pod-count
  selector: app=web
  count: 5`,
		compile: typed(func(p podCountParams, _ time.Duration) (Check, error) {
			if err := requireSelector(p.Selector); err != nil {
				return nil, err
			}
			if err := nonNegative("count", p.Count); err != nil {
				return nil, err
			}
			return &podCount{selector: p.Selector, count: *p.Count}, nil
		}),
	}
}

// podCount: the number of live pods matching a selector equals N.
type podCount struct {
	selector string
	count    int
}

func (c *podCount) Expected() string {
	return fmt.Sprintf("%d running pods match %s", c.count, c.selector)
}

func (c *podCount) Needs() []Resource { return []Resource{podResource()} }

func (c *podCount) Concern() Concern { return Concern{Selector: c.selector} }

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
