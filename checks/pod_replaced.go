package checks

import (
	"fmt"
	"sort"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
)

type selectorParams struct {
	Selector string `json:"selector"`
}

func podReplacedType() Type {
	return Type{
		Name:   "pod-replaced",
		Fields: "`selector`",
		Passes: "a pod of the baseline that matches is gone and a new matching pod (a UID the baseline has not seen) is Running",
		Example: `- type: pod-replaced
  selector: app=web`,
		compile: typed(func(p selectorParams, _ time.Duration) (Check, error) {
			if err := requireSelector(p.Selector); err != nil {
				return nil, err
			}
			return &podReplaced{selector: p.Selector}, nil
		}),
	}
}

// podReplaced: a pod that existed at the step's start is gone and a new one,
// with a UID the baseline has not seen, runs in its place.
type podReplaced struct{ selector string }

func (c *podReplaced) Expected() string {
	return fmt.Sprintf("a pod matching %s was replaced by a new one (new UID) since the step started", c.selector)
}

func (c *podReplaced) Needs() []Resource { return []Resource{podResource()} }

func (c *podReplaced) Concern() Concern { return Concern{Selector: c.selector} }

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
