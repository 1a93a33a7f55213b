package runner

import (
	"bytes"
	"strings"
	"testing"

	"github.com/labs-dev/labs/assets/labapp/loadreport"
)

// A rollout without readiness, as the panel shows it: the requests per
// second dip, errors climb by reason, then recovery.
func TestLoadPanel(t *testing.T) {
	var hist []loadreport.Progress
	total, failed := int64(0), int64(0)
	for i, rps := range []float64{100, 100, 20, 0, 50, 100} {
		f := int64(0)
		if rps < 100 {
			f = int64(100 - rps)
		}
		total, failed = total+100, failed+f
		hist = append(hist, loadreport.Progress{ElapsedSeconds: float64(i + 1), Transactions: total, Failed: failed, RPS: rps, P50: 1, P95: 2, P99: 9, InFlight: 2,
			Reasons: map[string]int64{"connection refused": failed}})
	}
	got := strings.Join(RenderLoadPanel("web", hist), "\n")
	want := "load on web  6s  600 requests, 61.67% succeeded\n" +
		"  requests/s     100.0  ██▂▁▅█\n" +
		"  latency     p50 1.0ms  p95 2.0ms  p99 9.0ms  p95 ██████\n" +
		"  errors      230 (connection refused 230)  ▁▁▇█▅▁\n" +
		"  in flight   2"
	if got != want {
		t.Fatalf("panel:\n%s\nwant:\n%s", got, want)
	}
	if sparkline([]float64{0, 0}) != "▁▁" {
		t.Fatal("zeros are not a flat line")
	}
	// On a terminal each report redraws the panel in place.
	var b bytes.Buffer
	p := &loadPanel{w: &b, interactive: true, target: "web"}
	p.update(hist[0])
	p.update(hist[1])
	if !strings.Contains(b.String(), "\x1b[5A\x1b[J") {
		t.Fatalf("second report does not redraw over the first: %q", b.String())
	}
}
