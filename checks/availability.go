package checks

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"
)

// ActiveCheck measures by acting, once per evaluation, through a Prober.
type ActiveCheck interface {
	Check
	Measure(ctx context.Context, p Prober) (ok bool, found string, err error)
}

// Prober does what active checks need from the cluster; the runner
// implements it (a load pod in the lab namespace, the step's action run as a
// lab script).
type Prober interface {
	// Availability sends load to target while action runs, keeps it up for
	// settle after the action ends, and reports the load's outcome.
	Availability(ctx context.Context, req AvailabilityRequest) (LoadStats, error)
}

// AvailabilityRequest is one measured action.
type AvailabilityRequest struct {
	Target      string
	Action      string
	Concurrency int
	Rate        float64
	Settle      time.Duration
	Timeout     time.Duration
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

// availability: the share of requests that succeeded while an action (say,
// a rollout) ran is at least min percent.
type availability struct {
	req AvailabilityRequest
	min float64
}

func newAvailability(s Spec) (Check, error) {
	if err := require("target", s.Target); err != nil {
		return nil, err
	}
	if err := require("during", s.During); err != nil {
		return nil, err
	}
	if s.Min == nil || *s.Min <= 0 || *s.Min > 100 {
		return nil, fmt.Errorf("field %q must be a percentage in (0, 100]", "min")
	}
	c := &availability{min: *s.Min, req: AvailabilityRequest{
		Target: s.Target, Action: s.During, Concurrency: s.Concurrency, Rate: s.Rate,
		Settle: s.Settle.Duration, Timeout: TimeoutOf(s),
	}}
	if c.req.Concurrency == 0 {
		c.req.Concurrency = 2
	}
	if c.req.Concurrency < 0 || c.req.Concurrency > 64 {
		return nil, fmt.Errorf("field %q must be 1 to 64", "concurrency")
	}
	if c.req.Settle == 0 {
		c.req.Settle = 3 * time.Second
	}
	return c, nil
}

func (c *availability) Expected() string {
	return fmt.Sprintf("at least %s%% of requests to %s succeed during the action", trimFloat(c.min), c.req.Target)
}

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
