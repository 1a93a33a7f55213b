package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"math/bits"
	"net"
	"net/http"
	"os"
	"os/signal"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/labs-dev/labs/assets/labapp/loadreport"
)

// maxLoadDuration bounds every run: load generators here are a teaching
// tool, never a soak test.
const maxLoadDuration = 10 * time.Minute

type loadConfig struct {
	URL         string
	Concurrency int
	Duration    time.Duration
	Requests    int64
	Rate        float64 // requests per second in total; 0 means as fast as possible
	Timeout     time.Duration
	Every       time.Duration // progress interval
}

type (
	summary   = loadreport.Summary
	latencyMs = loadreport.LatencyMs
	progress  = loadreport.Progress
)

func (c *loadConfig) validate() error {
	switch {
	case c.URL == "":
		return errors.New("load: a target URL is required")
	case c.Concurrency < 1:
		return fmt.Errorf("load: --concurrency must be at least 1, got %d", c.Concurrency)
	case c.Duration <= 0 && c.Requests <= 0:
		return errors.New("load: set --duration or --requests")
	case c.Duration > maxLoadDuration:
		return fmt.Errorf("load: --duration %s is over the %s ceiling", c.Duration, maxLoadDuration)
	case math.IsNaN(c.Rate) || math.IsInf(c.Rate, 0) || c.Rate < 0 || c.Rate > loadreport.MaxRate:
		return fmt.Errorf("load: --rate must be between 0 (as fast as possible) and %d, got %g", loadreport.MaxRate, c.Rate)
	}
	return nil
}

func load(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("load", flag.ContinueOnError)
	c := loadConfig{}
	fs.IntVar(&c.Concurrency, "concurrency", 1, "parallel clients")
	fs.DurationVar(&c.Duration, "duration", 0, "how long to run (max 10m)")
	fs.Int64Var(&c.Requests, "requests", 0, "stop after this many requests")
	fs.Float64Var(&c.Rate, "rate", 0, "requests per second in total (0: as fast as possible)")
	fs.DurationVar(&c.Timeout, "timeout", 5*time.Second, "per-request timeout")
	fs.DurationVar(&c.Every, "every", time.Second, "progress interval")
	asJSON := fs.Bool("json", false, "machine output: progress and result lines of JSON (package loadreport)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return errors.New("usage: labapp load [flags] URL")
	}
	c.URL = fs.Arg(0)
	if !strings.Contains(c.URL, "://") {
		c.URL = "http://" + c.URL
	}
	if c.Duration == 0 && c.Requests == 0 {
		c.Duration = 10 * time.Second
	}
	if err := c.validate(); err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	onProgress := func(p progress) {
		if *asJSON {
			b, _ := json.Marshal(p)
			fmt.Fprintf(stderr, "%s%s\n", loadreport.ProgressPrefix, b)
			return
		}
		fmt.Fprintf(stderr, "[%5.1fs] %7.1f rps  errors %d  p50 %.1fms  p95 %.1fms  in-flight %d\n", p.ElapsedSeconds, p.RPS, p.Failed, p.P50, p.P95, p.InFlight)
	}
	s := runLoad(ctx, c, onProgress)
	if *asJSON {
		b, err := json.Marshal(s)
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(stdout, "%s%s\n", loadreport.ResultPrefix, b)
		return err
	}
	return printSummary(stdout, s)
}

func printSummary(w io.Writer, s summary) error {
	var reasons []string
	for r, n := range s.FailureReasons {
		reasons = append(reasons, fmt.Sprintf("%s: %d", r, n))
	}
	sort.Strings(reasons)
	if len(reasons) == 0 {
		reasons = []string{"none"}
	}
	_, err := fmt.Fprintf(w, `Target:                 %s
Transactions:           %d hits
Availability:           %.2f %%
Elapsed time:           %.2f secs
Successful transactions:%d
Failed transactions:    %d
Transaction rate:       %.2f trans/sec
Concurrency:            %d
Response time (ms):     p50 %.2f  p95 %.2f  p99 %.2f  max %.2f  mean %.2f
Failure reasons:        %s
`, s.Target, s.Transactions, s.AvailabilityPercent, s.ElapsedSeconds, s.Successful, s.Failed,
		s.RequestsPerSecond, s.Concurrency, s.Latency.P50, s.Latency.P95, s.Latency.P99, s.Latency.Max, s.Latency.Mean,
		strings.Join(reasons, ", "))
	return err
}

// worker keeps its own counters so workers never contend; the reporter
// takes each worker's lock briefly to read them.
type worker struct {
	mu      sync.Mutex
	total   hist
	window  hist
	ok, bad int64
	reasons map[string]int64
}

func runLoad(ctx context.Context, c loadConfig, onProgress func(progress)) summary {
	if c.Duration > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, c.Duration)
		defer cancel()
	}
	// No Client.Timeout and no per-request context: both cost a timer or a
	// goroutine per request. The transport's dial and header timeouts bound
	// each request instead, and workers stop on a flag.
	tr := &http.Transport{
		Proxy:                 nil,
		DialContext:           (&net.Dialer{Timeout: c.Timeout, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:          c.Concurrency,
		MaxIdleConnsPerHost:   c.Concurrency,
		IdleConnTimeout:       30 * time.Second,
		ResponseHeaderTimeout: c.Timeout,
		DisableCompression:    true,
	}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr}

	var tokens <-chan time.Time
	if c.Rate > 0 {
		t := time.NewTicker(time.Duration(float64(time.Second) / c.Rate))
		defer t.Stop()
		tokens = t.C
	}
	// Workers stop on a flag, set when ctx ends; AfterFunc leaves no
	// goroutine behind when it never does (a run bounded by --requests).
	var stopped atomic.Bool
	unwatch := context.AfterFunc(ctx, func() { stopped.Store(true) })
	defer unwatch()
	var issued, inFlight atomic.Int64
	workers := make([]*worker, c.Concurrency)
	var wg sync.WaitGroup
	start := time.Now()
	for i := range workers {
		w := &worker{reasons: map[string]int64{}}
		workers[i] = w
		wg.Add(1)
		go func() {
			defer wg.Done()
			req, _ := http.NewRequest(http.MethodGet, c.URL, nil)
			for !stopped.Load() {
				if c.Requests > 0 && issued.Add(1) > c.Requests {
					return
				}
				if tokens != nil {
					select {
					case <-tokens:
					case <-ctx.Done():
						return
					}
				}
				inFlight.Add(1)
				t0 := time.Now()
				reason := do(client, req)
				d := time.Since(t0)
				inFlight.Add(-1)
				w.mu.Lock()
				w.total.add(d)
				w.window.add(d)
				if reason == "" {
					w.ok++
				} else {
					w.bad++
					w.reasons[reason]++
				}
				w.mu.Unlock()
			}
		}()
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	every := c.Every
	if every <= 0 {
		every = time.Second
	}
	tick := time.NewTicker(every)
	defer tick.Stop()
	last := start
	for {
		select {
		case <-done:
			return summarize(c, workers, time.Since(start))
		case now := <-tick.C:
			var win hist
			var total, failed int64
			var reasons map[string]int64
			for _, w := range workers {
				w.mu.Lock()
				win.merge(&w.window)
				w.window = hist{}
				total += w.ok + w.bad
				failed += w.bad
				for k, v := range w.reasons {
					if reasons == nil {
						reasons = map[string]int64{}
					}
					reasons[k] += v
				}
				w.mu.Unlock()
			}
			if onProgress != nil {
				onProgress(progress{
					ElapsedSeconds: now.Sub(start).Seconds(), Transactions: total, Failed: failed,
					RPS: float64(win.n) / now.Sub(last).Seconds(), P50: win.quantile(0.50), P95: win.quantile(0.95), P99: win.quantile(0.99),
					InFlight: inFlight.Load(), Reasons: reasons,
				})
			}
			last = now
		}
	}
}

// do sends one request and returns "" on success or the failure's reason.
func do(client *http.Client, req *http.Request) string {
	resp, err := client.Do(req)
	if err != nil {
		return failureReason(err)
	}
	_, err = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Sprintf("http %d", resp.StatusCode)
	}
	if err != nil {
		return failureReason(err)
	}
	return ""
}

func failureReason(err error) string {
	var ne net.Error
	s := err.Error()
	switch {
	case errors.As(err, &ne) && ne.Timeout():
		return "timeout"
	case strings.Contains(s, "connection refused"):
		return "connection refused"
	case strings.Contains(s, "connection reset"):
		return "connection reset"
	case strings.Contains(s, "no such host"):
		return "no such host"
	case strings.Contains(s, "EOF"):
		return "connection closed (EOF)"
	case strings.Contains(s, "no route to host"):
		return "no route to host"
	}
	return "other: " + s
}

func summarize(c loadConfig, workers []*worker, elapsed time.Duration) summary {
	var all hist
	s := summary{Target: c.URL, Concurrency: c.Concurrency, FailureReasons: map[string]int64{}}
	for _, w := range workers {
		w.mu.Lock()
		all.merge(&w.total)
		s.Successful += w.ok
		s.Failed += w.bad
		for r, n := range w.reasons {
			s.FailureReasons[r] += n
		}
		w.mu.Unlock()
	}
	s.Transactions = s.Successful + s.Failed
	s.AvailabilityPercent = availability(s.Successful, s.Transactions)
	s.ElapsedSeconds = elapsed.Seconds()
	if s.ElapsedSeconds > 0 {
		s.RequestsPerSecond = float64(s.Transactions) / s.ElapsedSeconds
	}
	s.Latency = latencyMs{P50: all.quantile(0.50), P95: all.quantile(0.95), P99: all.quantile(0.99), Max: all.maxMs(), Mean: all.meanMs()}
	return s
}

// availability is siege's: successful transactions over all, in percent;
// no transactions at all is no availability.
func availability(ok, total int64) float64 {
	if total == 0 {
		return 0
	}
	return math.Round(float64(ok)/float64(total)*100*100) / 100
}

// hist is a log-linear latency histogram over microseconds: 32 linear
// sub-buckets per power of two (about 3% resolution), so a long run costs
// constant memory and adding a sample is a few integer operations.
type hist struct {
	n       int64
	sum     time.Duration
	max     time.Duration
	buckets [histBuckets]int64
}

const (
	subBits     = 5
	subBuckets  = 1 << subBits
	histBuckets = 40 * subBuckets
)

func bucketOf(d time.Duration) int {
	us := uint64(d / time.Microsecond)
	if us < subBuckets {
		return int(us)
	}
	exp := bits.Len64(us) - subBits - 1 // us >> exp is in [subBuckets, 2*subBuckets)
	b := exp*subBuckets + int(us>>uint(exp))
	if b >= histBuckets {
		b = histBuckets - 1
	}
	return b
}

// upperMs is the largest latency bucket b holds, in milliseconds.
func upperMs(b int) float64 {
	if b < subBuckets {
		return float64(b+1) / 1000
	}
	exp := b/subBuckets - 1
	mant := b%subBuckets + subBuckets
	return float64(uint64(mant+1)<<uint(exp)) / 1000
}

func (h *hist) add(d time.Duration) {
	h.n++
	h.sum += d
	if d > h.max {
		h.max = d
	}
	h.buckets[bucketOf(d)]++
}

func (h *hist) merge(o *hist) {
	h.n += o.n
	h.sum += o.sum
	if o.max > h.max {
		h.max = o.max
	}
	for i, c := range o.buckets {
		h.buckets[i] += c
	}
}

func (h *hist) quantile(q float64) float64 {
	if h.n == 0 {
		return 0
	}
	rank := int64(math.Ceil(q * float64(h.n)))
	var seen int64
	for b, c := range h.buckets {
		seen += c
		if seen >= rank {
			return math.Min(upperMs(b), h.maxMs())
		}
	}
	return h.maxMs()
}

func (h *hist) maxMs() float64 { return float64(h.max) / float64(time.Millisecond) }

func (h *hist) meanMs() float64 {
	if h.n == 0 {
		return 0
	}
	return float64(h.sum) / float64(h.n) / float64(time.Millisecond)
}
