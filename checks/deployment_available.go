package checks

import (
	"fmt"
	"time"
)

type deploymentAvailableParams struct {
	Name     string `json:"name"`
	Replicas *int32 `json:"replicas"`
}

func deploymentAvailableType() Type {
	return Type{
		Name:   "deployment-available",
		Fields: "`name`, `replicas`",
		Passes: "the Deployment wants `replicas` (`spec.replicas`) and has that many available (`status.availableReplicas`), and its status is current",
		Example: `- type: deployment-available
  name: web
  replicas: 3
  timeout: 90s`,
		compile: typed(func(p deploymentAvailableParams, _ time.Duration) (Check, error) {
			if err := require("name", p.Name); err != nil {
				return nil, err
			}
			if err := nonNegative("replicas", p.Replicas); err != nil {
				return nil, err
			}
			return &deploymentAvailable{name: p.Name, replicas: *p.Replicas}, nil
		}),
	}
}

// deploymentAvailable: a Deployment wants N replicas and N are available.
// Both, so a 3-replica Deployment with one pod down does not pass "2".
type deploymentAvailable struct {
	name     string
	replicas int32
}

func (c *deploymentAvailable) Expected() string {
	return fmt.Sprintf("Deployment %s has %d available replicas", c.name, c.replicas)
}

func (c *deploymentAvailable) Needs() []Resource { return []Resource{deploymentResource()} }

func (c *deploymentAvailable) Concern() Concern { return Concern{Deployment: c.name} }

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
	return want == c.replicas && d.Status.AvailableReplicas == c.replicas && d.Status.ObservedGeneration >= d.Generation, found
}
