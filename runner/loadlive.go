package runner

import (
	"fmt"
	"io"
	"math"
	"sort"
	"strings"
	"sync"

	"github.com/labs-dev/labs/assets/labapp/loadreport"
)

// liveWindow is how much history the live panel keeps: a minute of
// one-second reports, as seed 000's dashboard shows.
const liveWindow = 60

// loadPanel is `labs load --live`: requests per second, latency
// percentiles, errors by reason and requests in flight, with sparklines of
// the last minute, redrawn in place every second on a terminal (one line
// per second elsewhere).
type loadPanel struct {
	mu          sync.Mutex
	w           io.Writer
	interactive bool
	target      string
	hist        []loadreport.Progress
	drawn       int // lines drawn last time, to redraw over them
}

func (p *loadPanel) update(pr loadreport.Progress) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.hist = append(p.hist, pr)
	if len(p.hist) > liveWindow {
		p.hist = p.hist[len(p.hist)-liveWindow:]
	}
	lines := RenderLoadPanel(p.target, p.hist)
	if !p.interactive {
		fmt.Fprintln(p.w, strings.Join(strings.Fields(strings.Join(lines[1:4], " ")), " "))
		return
	}
	if p.drawn > 0 {
		fmt.Fprintf(p.w, "\x1b[%dA\x1b[J", p.drawn) // up over the last panel, clear below
	}
	fmt.Fprintln(p.w, strings.Join(lines, "\n"))
	p.drawn = len(lines)
}

// RenderLoadPanel draws the panel for the reports so far (oldest first).
func RenderLoadPanel(target string, hist []loadreport.Progress) []string {
	if len(hist) == 0 {
		return []string{"load on " + target + ": starting"}
	}
	last := hist[len(hist)-1]
	rps := make([]float64, len(hist))
	p95 := make([]float64, len(hist))
	fails := make([]float64, len(hist))
	for i, h := range hist {
		rps[i], p95[i] = h.RPS, h.P95
		if i > 0 {
			fails[i] = float64(h.Failed - hist[i-1].Failed)
		} else {
			fails[i] = float64(h.Failed)
		}
	}
	avail := 100.0
	if last.Transactions > 0 {
		avail = 100 * float64(last.Transactions-last.Failed) / float64(last.Transactions)
	}
	errs := "none"
	if len(last.Reasons) > 0 {
		var rs []string
		for k, v := range last.Reasons {
			rs = append(rs, fmt.Sprintf("%s %d", k, v))
		}
		sort.Strings(rs)
		errs = strings.Join(rs, ", ")
	}
	return []string{
		fmt.Sprintf("load on %s  %.0fs  %d requests, %.2f%% succeeded", target, last.ElapsedSeconds, last.Transactions, avail),
		fmt.Sprintf("  requests/s  %8.1f  %s", last.RPS, sparkline(rps)),
		fmt.Sprintf("  latency     p50 %.1fms  p95 %.1fms  p99 %.1fms  p95 %s", last.P50, last.P95, last.P99, sparkline(p95)),
		fmt.Sprintf("  errors      %d (%s)  %s", last.Failed, errs, sparkline(fails)),
		fmt.Sprintf("  in flight   %d", last.InFlight),
	}
}

var bars = []rune("▁▂▃▄▅▆▇█")

// sparkline draws values as bars scaled to their maximum (a flat zero line
// when all are zero).
func sparkline(vals []float64) string {
	top := 0.0
	for _, v := range vals {
		top = math.Max(top, v)
	}
	var b strings.Builder
	for _, v := range vals {
		i := 0
		if top > 0 {
			i = int(math.Round(v / top * float64(len(bars)-1)))
		}
		b.WriteRune(bars[max(0, min(i, len(bars)-1))])
	}
	return b.String()
}
