package checks

import (
	"fmt"
	"regexp"
	"sort"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
)

type eventsParams struct {
	Reason     string `json:"reason"`
	EventType  string `json:"eventType,omitempty"`
	Message    string `json:"message,omitempty"`
	Kind       string `json:"kind,omitempty"`
	Name       string `json:"name,omitempty"`
	NamePrefix string `json:"namePrefix,omitempty"`
	Namespace  string `json:"namespace,omitempty"`
}

func eventsType() Type {
	return Type{
		Name:   "events",
		Fields: "`reason`, `eventType` (optional: `Normal`, `Warning`), `message` (optional regex), `kind`, `name` or `namePrefix` (optional: the object it is about), `namespace` (default: the lab's; a Node's events are in `default`; `\"*\"`: any namespace)",
		Passes: "an event with that reason (type, message, object) is new since the step started: its UID was not there then, or its count grew. An old event does not count, in whichever namespace it is",
		Example: `- type: events
  reason: BackoffLimitExceeded
  eventType: Warning
  kind: Job
  name: fail
- type: events
  description: the kubelet of ${LAB_WORKER_1} reported it cordoned during this step
  reason: NodeNotSchedulable
  kind: Node
  name: ${LAB_WORKER_1}
  namespace: default`,
		compile: typed(func(p eventsParams, _ time.Duration) (Check, error) {
			if err := require("reason", p.Reason); err != nil {
				return nil, err
			}
			switch p.EventType {
			case "", corev1.EventTypeNormal, corev1.EventTypeWarning:
			default:
				return nil, fmt.Errorf("field %q must be Normal or Warning, not %q", "eventType", p.EventType)
			}
			if p.Name != "" && p.NamePrefix != "" {
				return nil, fmt.Errorf("set %q or %q, not both", "name", "namePrefix")
			}
			if err := checkNamespace(p.Namespace); err != nil {
				return nil, err
			}
			c := &events{p: p}
			if p.Message != "" {
				var err error
				if c.message, err = regexp.Compile(p.Message); err != nil {
					return nil, fmt.Errorf("field %q is not a regular expression: %v", "message", err)
				}
			}
			return c, nil
		}),
	}
}

// events: an event of a reason (type, message, object) appeared since the
// step started.
type events struct {
	p       eventsParams
	message *regexp.Regexp
}

func (c *events) res() Resource {
	r := eventResource()
	r.Namespace = c.p.Namespace
	return r
}

func (c *events) Needs() []Resource { return []Resource{c.res()} }

func (c *events) Concern() Concern { return Concern{} }

func (c *events) about() string {
	var parts []string
	switch {
	case c.p.Name != "":
		parts = append(parts, fmt.Sprintf("about %s %s", or(c.p.Kind, "object"), c.p.Name))
	case c.p.NamePrefix != "":
		parts = append(parts, fmt.Sprintf("about a %s named %s*", or(c.p.Kind, "object"), c.p.NamePrefix))
	case c.p.Kind != "":
		parts = append(parts, "about a "+c.p.Kind)
	}
	if c.message != nil {
		parts = append(parts, fmt.Sprintf("with a message matching %q", c.p.Message))
	}
	if len(parts) == 0 {
		return ""
	}
	return " " + strings.Join(parts, " ")
}

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func (c *events) Expected() string {
	t := "an event"
	if c.p.EventType != "" {
		t = "a " + c.p.EventType + " event"
	}
	where := ""
	switch c.p.Namespace {
	case "":
	case AllNamespaces:
		where = " in any namespace"
	default:
		where = " in namespace " + c.p.Namespace
	}
	return fmt.Sprintf("%s %s%s%s since the step started", t, c.p.Reason, c.about(), where)
}

func (c *events) Evaluate(s *State) (bool, string) {
	evs := asTyped[corev1.Event](s.Objects(c.res()))
	sort.Slice(evs, func(i, j int) bool { return eventTime(evs[i]).Before(eventTime(evs[j])) })
	var old, other []string
	for _, e := range evs {
		if !c.matches(e) {
			if e.Reason != "" {
				other = append(other, fmt.Sprintf("%s %s/%s", e.Reason, e.InvolvedObject.Kind, e.InvolvedObject.Name))
			}
			continue
		}
		desc := fmt.Sprintf("%s %s %s/%s: %s", e.Type, e.Reason, e.InvolvedObject.Kind, e.InvolvedObject.Name, e.Message)
		if c.isNew(s.Baseline, e) {
			return true, desc
		}
		old = append(old, desc)
	}
	if len(old) > 0 {
		return false, "only events from before the step started: " + old[len(old)-1]
	}
	if len(other) > 5 {
		other = other[len(other)-5:]
	}
	if len(other) == 0 {
		return false, "no such event (no events at all)"
	}
	return false, "no such event; the newest are " + strings.Join(other, ", ")
}

func (c *events) matches(e *corev1.Event) bool {
	switch {
	case e.Reason != c.p.Reason:
	case c.p.EventType != "" && e.Type != c.p.EventType:
	case c.p.Kind != "" && e.InvolvedObject.Kind != c.p.Kind:
	case c.p.Name != "" && e.InvolvedObject.Name != c.p.Name:
	case c.p.NamePrefix != "" && !strings.HasPrefix(e.InvolvedObject.Name, c.p.NamePrefix):
	case c.message != nil && !c.message.MatchString(e.Message):
	default:
		return true
	}
	return false
}

// isNew: the baseline did not have the event, or it has happened again
// since (its count grew).
func (c *events) isNew(b *Baseline, e *corev1.Event) bool {
	if b == nil {
		return true
	}
	was, seen := b.Events[string(e.UID)]
	return !seen || max(e.Count, 1) > was
}
