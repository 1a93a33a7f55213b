package runner

import (
	"context"
	"io"
	"log"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/labs-dev/labs/runner/classview"
)

// laptopClass is an instructor's laptop-mode server over TLS.
func laptopClass(t *testing.T, dir string) (*classview.Laptops, *httptest.Server, classview.JoinCode) {
	t.Helper()
	b := classview.NewBoard("room", nil)
	l := &classview.Laptops{Board: b, Dir: dir, Class: "room"}
	if err := l.Open(); err != nil {
		t.Fatal(err)
	}
	s := &classview.Server{Board: b, Token: "instructor", Laptops: l}
	h, err := s.Handler()
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewUnstartedServer(h)
	ts.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused pin's handshake
	ts.StartTLS()
	addr := strings.TrimPrefix(ts.URL, "https://")
	s.Hosts = classview.HostsFor(addr)
	return l, ts, l.Code(addr, classview.Fingerprint(ts.Certificate().Raw))
}

// A learner joins with the code (the server's certificate pinned), their
// progress writes queue events, and the sender delivers them; a server
// that is down costs the command nothing and gets the events once back.
func TestReportingDeliversEvents(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	p := Paths{ConfigDir: filepath.Join(dir, "config"), StateDir: filepath.Join(dir, "state")}
	l, ts, code := laptopClass(t, filepath.Join(dir, "server"))

	bad := code
	bad.Fingerprint = strings.Repeat("0", 64)
	if _, err := JoinLaptopClass(ctx, p, bad, "ana"); err == nil || !strings.Contains(err.Error(), "not the one in the join code") {
		t.Fatalf("a server with another certificate: err = %v, want the pin refused", err)
	}
	rep, err := JoinLaptopClass(ctx, p, code, "ana")
	if err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(reportingFile(p)); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("reporting file: %v %v", fi, err)
	}
	kicked := 0
	r := &Runner{Paths: p, Reporting: rep, KickReporter: func() { kicked++ }}
	st := r.store()
	prog := &Progress{Lab: "selfhealing", Done: make([]bool, 3)}
	prog.enter(0, nil)
	if err := st.Save(ctx, "selfhealing", prog); err != nil {
		t.Fatal(err)
	}
	err = st.Update(ctx, "selfhealing", func(cur *Progress) (*Progress, error) {
		cur.note("hint", "")
		cur.note("fail", "expected Deployment web has 3 available replicas; found 1")
		return cur, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if kicked != 2 {
		t.Errorf("the sender was started %d times, want once per write", kicked)
	}
	if err := FlushReports(ctx, p, *rep, time.Minute); err != nil {
		t.Fatal(err)
	}
	h, _ := l.Board.History("ana")
	if len(h) != 3 || h[0].What != "enter" || h[2].Detail == "" {
		t.Fatalf("the server has %v, want enter, hint, fail", h)
	}
	if b, _ := os.ReadFile(queueFile(p)); len(b) != 0 {
		t.Errorf("the queue still holds %q", b)
	}

	// The server goes away: writing progress does not wait for it.
	ts.Close()
	start := time.Now()
	if err := st.Update(ctx, "selfhealing", func(cur *Progress) (*Progress, error) {
		cur.Done[0] = true
		cur.note("done", "")
		cur.enter(1, nil)
		return cur, nil
	}); err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); took > 500*time.Millisecond {
		t.Errorf("a write with the server down took %s", took)
	}
	if err := FlushReports(ctx, p, *rep, 2*time.Second); err == nil {
		t.Fatal("sending to a server that is down: no error")
	}
	if b, _ := os.ReadFile(queueFile(p)); strings.Count(string(b), "\n") != 2 {
		t.Fatalf("queue after a failed send = %q, want the 2 events kept", b)
	}
	// Back, on the same address (a restart): the events arrive.
	l.Close()
	l2, ts2, code2 := laptopClass(t, filepath.Join(dir, "server"))
	defer ts2.Close()
	rep.Server, rep.Fingerprint = strings.TrimPrefix(ts2.URL, "https://"), code2.Fingerprint // httptest picks a new port and certificate
	if err := FlushReports(ctx, p, *rep, time.Minute); err != nil {
		t.Fatal(err)
	}
	if h, _ := l2.Board.History("ana"); len(h) != 5 {
		t.Fatalf("after the server came back it has %d events, want 5", len(h))
	}
	if _, err := LeaveReporting(p); err != nil {
		t.Fatal(err)
	}
	if got, _ := ReadReporting(p); got != nil {
		t.Error("still reporting after leaving")
	}
}

// What a command pays for reporting: a progress write without a class,
// and with one whose server is down (the queue's append and starting the
// detached sender; the sender's own retries are not the command's).
// `make bench` prints these.
func BenchmarkProgressWrite(b *testing.B) {
	truePath, err := exec.LookPath("true")
	if err != nil {
		b.Skip("no true(1) to stand for the sender")
	}
	for _, tc := range []struct {
		name string
		rep  *Reporting
	}{
		{"no-class", nil},
		{"class-server-down", &Reporting{Server: "127.0.0.1:1", Fingerprint: strings.Repeat("0", 64), Token: "t", Learner: "ana"}},
	} {
		b.Run(tc.name, func(b *testing.B) {
			dir := b.TempDir()
			p := Paths{ConfigDir: filepath.Join(dir, "config"), StateDir: filepath.Join(dir, "state")}
			r := &Runner{Paths: p, Reporting: tc.rep}
			if tc.rep != nil {
				r.KickReporter = func() { StartReporter(truePath, nil) }
			}
			st := r.store()
			ctx := context.Background()
			prog := &Progress{Lab: "selfhealing", Done: make([]bool, 7)}
			prog.enter(0, nil)
			if err := st.Save(ctx, "selfhealing", prog); err != nil {
				b.Fatal(err)
			}
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				err := st.Update(ctx, "selfhealing", func(cur *Progress) (*Progress, error) {
					cur.note("hint", "")
					return cur, nil
				})
				if err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
