package checks

import (
	"fmt"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"
)

type probeParams struct {
	Name      string `json:"name,omitempty"`
	Selector  string `json:"selector,omitempty"`
	Container string `json:"container,omitempty"`
	Probe     string `json:"probe"`
	Handler   string `json:"handler,omitempty"`
}

func probeType() Type {
	return Type{
		Name:   "probe",
		Fields: "`name` (a Deployment) or `selector` (pods), `probe` (`liveness`, `readiness`, `startup`), `handler` (optional: `httpGet`, `exec`, `tcpSocket`, `grpc`), `container` (optional)",
		Passes: "the pod template (or every matching pod) configures that probe",
		Example: `- type: probe
  name: web
  probe: readiness
  handler: httpGet`,
		compile: typed(func(p probeParams, _ time.Duration) (Check, error) {
			if (p.Name == "") == (p.Selector == "") {
				return nil, fmt.Errorf("set exactly one of %q (a Deployment) or %q (pods)", "name", "selector")
			}
			if p.Selector != "" {
				if _, err := labels.Parse(p.Selector); err != nil {
					return nil, fmt.Errorf("selector %q: %w", p.Selector, err)
				}
			}
			switch p.Probe {
			case "liveness", "readiness", "startup":
			default:
				return nil, fmt.Errorf("field %q must be liveness, readiness or startup, not %q", "probe", p.Probe)
			}
			switch p.Handler {
			case "", "httpGet", "exec", "tcpSocket", "grpc":
			default:
				return nil, fmt.Errorf("field %q must be httpGet, exec, tcpSocket or grpc, not %q", "handler", p.Handler)
			}
			return &probe{name: p.Name, selector: p.Selector, container: p.Container, kind: p.Probe, handler: p.Handler}, nil
		}),
	}
}

// probe: the pod template of a Deployment (name) or the pods matching a
// selector configure a probe of a kind (liveness, readiness, startup),
// optionally with a handler (httpGet, exec, tcpSocket, grpc).
type probe struct {
	name, selector string
	container      string
	kind, handler  string
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

func (c *probe) Needs() []Resource { return []Resource{deploymentResource(), podResource()} }

func (c *probe) Concern() Concern { return Concern{Deployment: c.name, Selector: c.selector} }

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
