//go:build browser

package classview

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// The class page in a real browser (Debian's chromium, headless, driven
// over the DevTools protocol): it shows each change within a second, a
// stuck learner stands out, a row opens its history from the keyboard,
// and the page survives a server restart without losing what happened
// while it was down. Screenshots at 1280×800 and 1920×1080 go to
// $LABS_ARTIFACTS (default bin/artifacts).
func TestPageInABrowser(t *testing.T) {
	chrome, err := exec.LookPath("chromium")
	if err != nil {
		t.Fatal("the browser test needs Debian's chromium (apt-get install chromium): ", err)
	}
	now := time.Now()
	b := NewBoard("k8s101", []Lab{{ID: "selfhealing", Title: "Self-healing", Steps: []string{"Deploy", "Delete a pod", "Kill the process", "Probes", "OOM", "Scale", "Done"}, StepTime: 5 * time.Minute}})
	b.Now = time.Now
	for i, who := range []string{"ana", "bo", "cy", "dee", "eve", "fay"} {
		b.AddLearner(who, "k8s101-"+who)
		b.Verify(who, "selfhealing", 1, 2)
		b.Apply(Event{At: now.Add(-time.Duration(6-i) * time.Minute), Learner: who, Lab: "selfhealing", Step: 1 + i%3, What: Enter})
	}
	s := &Server{Board: b, Token: "tok-" + fmt.Sprint(now.UnixNano()), Lang: "en", Heartbeat: time.Second}
	addr, stop := serve(t, s, "127.0.0.1:0")

	ctx, cancel := chromedp.NewExecAllocator(context.Background(), append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chrome), chromedp.NoSandbox, chromedp.WindowSize(1280, 800), chromedp.Flag("headless", "new"))...)
	defer cancel()
	ctx, cancel = chromedp.NewContext(ctx)
	defer cancel()
	ctx, cancel = context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()

	if err := chromedp.Do(ctx,
		chromedp.Navigate("http://"+addr+"/?token="+s.Token),
		chromedp.WaitVisible(chromedp.CSS(`tr[data-learner="fay"]`)),
	); err != nil {
		t.Fatal(err)
	}

	// Each change within a second of the event that caused it.
	var lat []time.Duration
	for i := 0; i < 10; i++ {
		step := 2 + i%5
		at := time.Now()
		b.Verify("bo", "selfhealing", step-1)
		b.Apply(Event{At: at, Learner: "bo", Lab: "selfhealing", Step: step, What: Enter})
		if err := waitFor(ctx, fmt.Sprintf(`document.querySelector('tr[data-learner="bo"]').dataset.step === "%d"`, step), 5*time.Second); err != nil {
			t.Fatalf("change %d never shown: %v", i, err)
		}
		lat = append(lat, time.Since(at))
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	t.Logf("event to page: p50 %s, max %s (10 changes)", lat[len(lat)/2], lat[len(lat)-1])
	if lat[len(lat)-1] > time.Second {
		t.Errorf("a change took %s to show, want within 1s", lat[len(lat)-1])
	}

	// A stuck learner: three failed checks in a row.
	for i := 0; i < StuckFails; i++ {
		b.Apply(Event{At: time.Now().Add(time.Duration(i) * time.Millisecond), Learner: "cy", Lab: "selfhealing", Step: 3, What: Fail, Detail: "expected Deployment web has 3 available replicas; found 1"})
	}
	if err := waitFor(ctx, `document.querySelector('tr.stuck[data-learner="cy"]') !== null && document.querySelector('tr[data-learner="cy"] .badge').textContent === "stuck"`, 3*time.Second); err != nil {
		t.Fatalf("stuck learner not highlighted: %v", err)
	}
	shot(t, ctx, 1280, 800)
	shot(t, ctx, 1920, 1080)

	// The keyboard opens a learner's history.
	if err := chromedp.Do(ctx,
		chromedp.Focus(chromedp.CSS(`tr[data-learner="cy"]`)),
		chromedp.KeyEvent("\r"),
		chromedp.WaitVisible(chromedp.CSS(`#history[open] li.event`)),
	); err != nil {
		t.Fatal(err)
	}
	events, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll('#history li.event').length`))
	if err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(ctx, chromedp.KeyEvent("\x1b")); err != nil {
		t.Fatal(err)
	}
	if events != 4 {
		t.Errorf("cy's history shows %d events, want 4", events)
	}

	// The server goes away: the page says so; what happens meanwhile
	// shows once it is back on the same address.
	stop()
	if err := waitFor(ctx, `!document.getElementById("offline").hidden`, 10*time.Second); err != nil {
		t.Fatalf("the page did not notice the server left: %v", err)
	}
	b.Verify("dee", "selfhealing", 1, 2, 3, 4, 5, 6)
	b.Apply(Event{At: time.Now(), Learner: "dee", Lab: "selfhealing", Step: 7, What: Enter})
	_, stop = serve(t, s, addr)
	defer stop()
	if err := waitFor(ctx, `document.querySelector('tr[data-learner="dee"]').dataset.step === "7" && document.getElementById("offline").hidden`, 15*time.Second); err != nil {
		t.Fatalf("after a restart the page did not catch up: %v", err)
	}
}

// serve starts s on addr and returns the address and a stop function.
func serve(t *testing.T, s *Server, addr string) (string, func()) {
	t.Helper()
	var ln net.Listener
	var err error
	for i := 0; i < 50; i++ { // the old listener may linger a moment
		if ln, err = net.Listen("tcp", addr); err == nil {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil {
		t.Fatal(err)
	}
	s.Hosts = HostsFor(ln.Addr().String())
	h, err := s.Handler()
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: h}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			t.Error(err)
		}
	}()
	return ln.Addr().String(), func() { _ = srv.Close() }
}

// waitFor polls a JavaScript condition in the page every 20 ms.
func waitFor(ctx context.Context, cond string, within time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, within)
	defer cancel()
	for {
		if ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](cond)); err == nil && ok {
			return nil
		} else if ctx.Err() != nil {
			return fmt.Errorf("%q still false after %s", cond, within)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func shot(t *testing.T, ctx context.Context, w, h int64) {
	t.Helper()
	dir := os.Getenv("LABS_ARTIFACTS")
	if dir == "" {
		dir = filepath.Join("..", "..", "bin", "artifacts")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(w, h), chromedp.Sleep(200*time.Millisecond)); err != nil {
		t.Fatal(err)
	}
	png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, fmt.Sprintf("class-page-%dx%d.png", w, h))
	if err := os.WriteFile(file, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot %s (%d KiB)", file, len(png)>>10)
}
