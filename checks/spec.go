// Package checks turns the declarative check blocks of a lab into evaluations
// against the live cluster. Specs are data (parsed from lab Markdown); a Check
// is a compiled spec that judges a State snapshot; the Engine feeds it fresh
// snapshots from informers until it holds or times out.
package checks

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/labels"
	"sigs.k8s.io/yaml"
)

// DefaultTimeout is how long a check may take to hold once a learner asks.
const DefaultTimeout = 60 * time.Second

// Spec is one entry of a lab's ```check block. One flat struct for every type
// keeps the YAML forgiving to read and strict to parse: unknown fields are
// errors, and each type validates the fields it needs.
type Spec struct {
	Type        string   `json:"type"`
	Description string   `json:"description,omitempty"`
	Name        string   `json:"name,omitempty"`
	Selector    string   `json:"selector,omitempty"`
	Container   string   `json:"container,omitempty"`
	Replicas    *int32   `json:"replicas,omitempty"`
	Count       *int     `json:"count,omitempty"`
	Reason      string   `json:"reason,omitempty"`
	Probe       string   `json:"probe,omitempty"`
	Handler     string   `json:"handler,omitempty"`
	Timeout     Duration `json:"timeout,omitempty"`
	// availability
	Target      string   `json:"target,omitempty"`
	Min         *float64 `json:"min,omitempty"`
	During      string   `json:"during,omitempty"`
	Concurrency int      `json:"concurrency,omitempty"`
	Rate        float64  `json:"rate,omitempty"`
	Settle      Duration `json:"settle,omitempty"`
}

// Duration reads "90s" or "2m" in YAML.
type Duration struct{ time.Duration }

// UnmarshalJSON accepts a Go duration string.
func (d *Duration) UnmarshalJSON(b []byte) error {
	s := strings.Trim(string(b), `"`)
	v, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("timeout %q: want a duration such as 30s or 2m", s)
	}
	d.Duration = v
	return nil
}

// MarshalJSON writes the duration back as a string.
func (d Duration) MarshalJSON() ([]byte, error) {
	return []byte(`"` + d.Duration.String() + `"`), nil
}

// ParseSpecs decodes a check block. Errors name the entry (1-based) so the
// content parser can point at the line.
func ParseSpecs(src []byte) ([]Spec, error) {
	var specs []Spec
	if err := yaml.UnmarshalStrict(src, &specs); err != nil {
		return nil, fmt.Errorf("check block is not a YAML list of checks: %w", err)
	}
	if len(specs) == 0 {
		return nil, fmt.Errorf("check block is empty: list at least one check")
	}
	for i, s := range specs {
		if _, err := Compile(s); err != nil {
			return nil, fmt.Errorf("check %d: %w", i+1, err)
		}
	}
	return specs, nil
}

// Compile validates a spec and returns the check it describes.
func Compile(s Spec) (Check, error) {
	build, ok := registry()[s.Type]
	if !ok {
		return nil, fmt.Errorf("unknown check type %q (known: %s)", s.Type, strings.Join(TypeNames(), ", "))
	}
	if s.Selector != "" {
		if _, err := labels.Parse(s.Selector); err != nil {
			return nil, fmt.Errorf("%s: selector %q: %w", s.Type, s.Selector, err)
		}
	}
	c, err := build(s)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", s.Type, err)
	}
	return c, nil
}

// TimeoutOf is the spec's timeout, or the default.
func TimeoutOf(s Spec) time.Duration {
	if s.Timeout.Duration > 0 {
		return s.Timeout.Duration
	}
	return DefaultTimeout
}

// TypeNames lists the check types, sorted, for error messages and docs.
func TypeNames() []string {
	var names []string
	for n := range registry() {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

func registry() map[string]func(Spec) (Check, error) {
	return map[string]func(Spec) (Check, error){
		"deployment-available": newDeploymentAvailable,
		"pod-count":            newPodCount,
		"pod-replaced":         newPodReplaced,
		"restarted":            newRestarted,
		"terminated-reason":    newTerminatedReason,
		"probe":                newProbe,
		"availability":         newAvailability,
	}
}

func require(field, value string) error {
	if value == "" {
		return fmt.Errorf("field %q is required", field)
	}
	return nil
}
