package main

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestAvailability(t *testing.T) {
	tests := []struct {
		ok, total int64
		want      float64
	}{
		{82, 117, 70.09}, // seed 004 without a readinessProbe
		{112, 112, 100},
		{0, 0, 0},
		{2, 3, 66.67},
	}
	for _, tc := range tests {
		if got := availability(tc.ok, tc.total); got != tc.want {
			t.Errorf("availability(%d, %d) = %v, want %v", tc.ok, tc.total, got, tc.want)
		}
	}
}

func TestHistQuantiles(t *testing.T) {
	var h hist
	for i := 1; i <= 100; i++ {
		h.add(time.Duration(i) * time.Millisecond)
	}
	for _, tc := range []struct {
		q    float64
		want float64
	}{{0.5, 50}, {0.95, 95}, {0.99, 99}, {1, 100}} {
		got := h.quantile(tc.q)
		if got < tc.want*0.99 || got > tc.want*1.02 {
			t.Errorf("quantile(%v) = %.2fms, want %.0fms within 2%%", tc.q, got, tc.want)
		}
	}
	if h.maxMs() != 100 || h.meanMs() != 50.5 {
		t.Errorf("max %.2f mean %.2f", h.maxMs(), h.meanMs())
	}
	var empty hist
	if empty.quantile(0.5) != 0 {
		t.Error("empty histogram must report 0")
	}
}

// Every fourth request fails with 503: availability is 75% and the reason
// is tallied; a run bounded by --requests makes exactly that many.
func TestRunLoadCountsFailures(t *testing.T) {
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1)%4 == 0 {
			http.Error(w, "no", http.StatusServiceUnavailable)
			return
		}
		w.Write([]byte("ok"))
	}))
	defer srv.Close()
	s := runLoad(context.Background(), loadConfig{URL: srv.URL, Concurrency: 4, Requests: 400, Timeout: time.Second, Every: 50 * time.Millisecond}, nil)
	if s.Transactions != 400 || s.Failed != 100 || s.Successful != 300 {
		t.Fatalf("transactions %d ok %d failed %d, want 400/300/100", s.Transactions, s.Successful, s.Failed)
	}
	if s.AvailabilityPercent != 75 || s.FailureReasons["http 503"] != 100 {
		t.Errorf("availability %.2f reasons %v", s.AvailabilityPercent, s.FailureReasons)
	}
}

func TestRunLoadConnectionRefused(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close()
	s := runLoad(context.Background(), loadConfig{URL: url, Concurrency: 2, Requests: 10, Timeout: time.Second}, nil)
	if s.Failed != 10 || s.FailureReasons["connection refused"] != 10 || s.AvailabilityPercent != 0 {
		t.Errorf("got %+v", s)
	}
}

// Pacing holds: never more requests than the rate allows in the time the
// run took. The bounds are wide on purpose: under -race on 2 busy cores a
// 1s run may do far fewer requests, never more.
func TestLoadRateAndDuration(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer srv.Close()
	var lines int
	s := runLoad(context.Background(), loadConfig{URL: srv.URL, Concurrency: 2, Duration: time.Second, Rate: 50, Timeout: time.Second, Every: 200 * time.Millisecond}, func(progress) { lines++ })
	if max := int64(50*s.ElapsedSeconds) + 2; s.Transactions > max {
		t.Errorf("at 50/s for %.2fs got %d transactions, over the %d pacing allows", s.ElapsedSeconds, s.Transactions, max)
	}
	if s.Transactions < 5 || s.Failed != 0 {
		t.Errorf("at 50/s for 1s got %d transactions (%d failed)", s.Transactions, s.Failed)
	}
	if lines < 1 {
		t.Errorf("got %d progress lines in 1s at a 200ms interval", lines)
	}
}

// A run bounded only by --requests, under a context that never ends,
// leaves no goroutine behind.
func TestLoadLeavesNoGoroutine(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer srv.Close()
	runtime.GC()
	before := runtime.NumGoroutine()
	for i := 0; i < 5; i++ {
		s := runLoad(context.Background(), loadConfig{URL: srv.URL, Concurrency: 2, Requests: 10, Timeout: time.Second}, nil)
		if s.Transactions != 10 {
			t.Fatalf("run %d: %d transactions, want 10", i, s.Transactions)
		}
	}
	srv.CloseClientConnections()
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before {
		t.Errorf("%d goroutines after 5 runs, %d before: a run leaks", n, before)
	}
}

func TestLoadValidation(t *testing.T) {
	var out, errOut bytes.Buffer
	for _, args := range [][]string{
		{"--duration", "11m", "http://x"},
		{"--concurrency", "0", "http://x"},
		{"--rate", "2e9", "http://x"},
		{"--rate", "Inf", "http://x"},
		{"--rate", "NaN", "http://x"},
		{},
	} {
		if err := load(args, &out, &errOut); err == nil {
			t.Errorf("load %v: want an error", args)
		}
	}
}

func TestApplets(t *testing.T) {
	dir := t.TempDir()
	f := filepath.Join(dir, "pid")
	if err := touch([]string{f}); err != nil {
		t.Fatal(err)
	}
	old := time.Date(2020, 1, 2, 3, 4, 5, 0, time.UTC)
	if err := os.Chtimes(f, old, old); err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := date([]string{"-r", f}, &b); err != nil || !strings.Contains(b.String(), "2020") {
		t.Errorf("date -r = %q, %v", b.String(), err)
	}
	b.Reset()
	if err := ls([]string{"-la", dir}, &b); err != nil || !strings.Contains(b.String(), "pid") || !strings.Contains(b.String(), "-rw") {
		t.Errorf("ls -la = %q, %v", b.String(), err)
	}
	if err := rm([]string{f}); err != nil {
		t.Fatal(err)
	}
	if err := rm([]string{"-f", f}); err != nil {
		t.Errorf("rm -f of a missing file: %v", err)
	}
	b.Reset()
	if err := ps(&b, "/proc"); err != nil || !strings.Contains(b.String(), "PID") {
		t.Errorf("ps = %q, %v", b.String(), err)
	}
}

func TestShellRunsScripts(t *testing.T) {
	var out, errOut bytes.Buffer
	if err := sh([]string{"-c", "x=world; echo hello $x; if true; then echo yes; fi"}, strings.NewReader(""), &out, &errOut); err != nil {
		t.Fatal(err, errOut.String())
	}
	if out.String() != "hello world\nyes\n" {
		t.Errorf("sh -c output %q", out.String())
	}
	out.Reset()
	if err := sh(nil, strings.NewReader("echo one\necho two\nexit 0\n"), &out, &errOut); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "one\n") || !strings.Contains(out.String(), "two\n") || !strings.Contains(out.String(), "$ ") {
		t.Errorf("interactive output %q", out.String())
	}
}

func TestShellKillIsTheApplet(t *testing.T) {
	args, err := externalKill(context.Background(), []string{"kill", "1"})
	if err != nil || args[0] != "/bin/kill" || args[1] != "1" {
		t.Errorf("externalKill = %v, %v", args, err)
	}
}

// BenchmarkHistAdd is the per-request bookkeeping cost of the load generator.
func BenchmarkHistAdd(b *testing.B) {
	var h hist
	for i := 0; b.Loop(); i++ {
		h.add(time.Duration(i%5000) * time.Microsecond)
	}
}

// A broken release answers but is never healthy or ready.
func TestBrokenSwitchFailsProbes(t *testing.T) {
	s := &server{version: "v3"}
	s.down.Store(true)
	h := s.routes()
	for _, path := range []string{"/healthz", "/readyz"} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
		if rec.Code != http.StatusServiceUnavailable {
			t.Errorf("%s = %d, want 503", path, rec.Code)
		}
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	if rec.Code != 200 || rec.Header().Get("Server") != "labapp/v3" {
		t.Errorf("/ = %d, Server %q", rec.Code, rec.Header().Get("Server"))
	}
}

func TestBurnThreads(t *testing.T) {
	for _, c := range []struct {
		v    string
		ncpu int
		want int
	}{{"0", 8, 0}, {"3", 8, 3}, {"2x", 2, 4}, {"2x", 8, 16}, {"1x", 1, 1}} {
		if got, err := burnThreads(c.v, c.ncpu); err != nil || got != c.want {
			t.Errorf("burnThreads(%q, %d) = %d, %v; want %d", c.v, c.ncpu, got, err, c.want)
		}
	}
	for _, v := range []string{"", "x", "-1", "2y", "1.5x", "99999"} {
		if _, err := burnThreads(v, 2); err == nil || !strings.Contains(err.Error(), "--cpu") {
			t.Errorf("burnThreads(%q) = %v; want an error naming --cpu", v, err)
		}
	}
}
