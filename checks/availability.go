package checks

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"
)

// Prober does what active and probing checks need from the cluster beyond
// watching it; the runner implements it (a load pod in the lab namespace,
// the step's action run as a lab script, exec and HTTP through the API
// server).
type Prober interface {
	// Availability sends load to target while action runs, keeps it up for
	// settle after the action ends, and reports the load's outcome.
	Availability(ctx context.Context, req AvailabilityRequest) (LoadStats, error)
	// Exec runs a command in a container, as `kubectl exec` does.
	Exec(ctx context.Context, req ExecRequest) (ExecResult, error)
	// HTTP sends a GET through the API server's proxy to a Service or pod.
	HTTP(ctx context.Context, req HTTPRequest) (HTTPResponse, error)
}

// AvailabilityRequest is one measured action.
type AvailabilityRequest struct {
	Target      string
	Action      string
	Concurrency int
	Rate        float64
	Settle      time.Duration
	// Timeout bounds the action; it is the check's own, never shortened by
	// `labs check --timeout` (which bounds waiting, not acting).
	Timeout time.Duration
}

// LoadStats is what the load generator reports (a subset of `labs load
// --output json`).
type LoadStats struct {
	Transactions        int64            `json:"transactions"`
	Successful          int64            `json:"successful"`
	Failed              int64            `json:"failed"`
	AvailabilityPercent float64          `json:"availability_percent"`
	FailureReasons      map[string]int64 `json:"failure_reasons"`
}

type availabilityParams struct {
	Target      string    `json:"target"`
	Min         *float64  `json:"min"`
	During      string    `json:"during"`
	Concurrency *int      `json:"concurrency,omitempty"`
	Rate        float64   `json:"rate,omitempty"`
	Settle      *Duration `json:"settle,omitempty"`
}

// MaxAvailabilityConcurrency bounds the load an availability check sends.
const MaxAvailabilityConcurrency = 64

func availabilityType() Type {
	return Type{
		Name:   "availability",
		Fields: "`target` (a Service), `min` (percent), `during` (a script: the action), `concurrency` (default 2), `rate` (req/s, default unpaced), `settle` (default 3s)",
		Passes: "while a load pod sends requests to `target`, the `during` script runs; the load goes on for `settle`, and at least `min`% of its requests succeeded. Measured once per evaluation (the action is the window); `timeout` bounds the action. One per step",
		Example: `- type: availability
  target: web
  min: 100
  rate: 20
  timeout: 4m
  during: |
    kubectl rollout restart deployment/web
    kubectl rollout status deployment/web --timeout=180s`,
		compile: typed(func(p availabilityParams, timeout time.Duration) (Check, error) {
			if err := require("target", p.Target); err != nil {
				return nil, err
			}
			if err := require("during", p.During); err != nil {
				return nil, err
			}
			if p.Min == nil || !(*p.Min > 0 && *p.Min <= 100) {
				return nil, fmt.Errorf("field %q must be a percentage in (0, 100]", "min")
			}
			c := &availability{min: *p.Min, req: AvailabilityRequest{
				Target: p.Target, Action: p.During, Concurrency: 2, Rate: p.Rate, Settle: 3 * time.Second, Timeout: timeout,
			}}
			if p.Concurrency != nil {
				c.req.Concurrency = *p.Concurrency
			}
			if c.req.Concurrency < 1 || c.req.Concurrency > MaxAvailabilityConcurrency {
				return nil, fmt.Errorf("field %q must be 1 to %d, got %d", "concurrency", MaxAvailabilityConcurrency, c.req.Concurrency)
			}
			if err := finiteRate("rate", p.Rate); err != nil {
				return nil, err
			}
			if p.Settle != nil {
				if p.Settle.Duration < 0 {
					return nil, fmt.Errorf("field %q must not be negative, got %s", "settle", p.Settle.Duration)
				}
				c.req.Settle = p.Settle.Duration
			}
			return c, nil
		}),
	}
}

// availability: the share of requests that succeeded while an action (say,
// a rollout) ran is at least min percent.
type availability struct {
	req AvailabilityRequest
	min float64
}

func (c *availability) Expected() string {
	return fmt.Sprintf("at least %s%% of requests to %s succeed during the action", trimFloat(c.min), c.req.Target)
}

func (c *availability) Concern() Concern { return Concern{} }

func (c *availability) Measure(ctx context.Context, p Prober) (bool, string, error) {
	if p == nil {
		return false, "", fmt.Errorf("availability checks need a cluster to send load to")
	}
	st, err := p.Availability(ctx, c.req)
	if err != nil {
		return false, "", err
	}
	ok, found := judgeAvailability(st, c.min)
	return ok, found, nil
}

// judgeAvailability is the arithmetic: no transactions proves nothing.
func judgeAvailability(st LoadStats, min float64) (bool, string) {
	found := fmt.Sprintf("%.2f%% (%d of %d requests succeeded", st.AvailabilityPercent, st.Successful, st.Transactions)
	if len(st.FailureReasons) > 0 {
		var rs []string
		for r, n := range st.FailureReasons {
			rs = append(rs, fmt.Sprintf("%s %d", r, n))
		}
		sort.Strings(rs)
		found += "; failures: " + strings.Join(rs, ", ")
	}
	found += ")"
	if st.Transactions == 0 {
		return false, "no requests were made, so availability is unknown"
	}
	return st.AvailabilityPercent >= min, found
}

func trimFloat(f float64) string {
	return strings.TrimSuffix(strings.TrimRight(fmt.Sprintf("%.2f", f), "0"), ".")
}
