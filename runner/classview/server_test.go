package classview

import (
	"bufio"
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func testServer(t *testing.T) (*Server, *httptest.Server) {
	t.Helper()
	now := t0
	b := testBoard(&now)
	s := &Server{Board: b, Token: "s3cret", Lang: "en"}
	return s, startServer(t, s)
}

// startServer serves s on a local port for the test, its Host accepted.
func startServer(t *testing.T, s *Server) *httptest.Server {
	t.Helper()
	h, err := s.Handler()
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(h)
	t.Cleanup(ts.Close)
	s.Hosts = HostsFor(strings.TrimPrefix(ts.URL, "http://"))
	return ts
}

func get(t *testing.T, u, host, bearer string) *http.Response {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, u, nil)
	if host != "" {
		req.Host = host
	}
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

// Nothing without the instructor's token; a wrong token or a foreign Host
// (DNS rebinding) is refused; the token in the address becomes a cookie.
func TestServerRefusesStrangers(t *testing.T) {
	_, ts := testServer(t)
	for _, tc := range []struct {
		path, host, bearer string
		want               int
	}{
		{"/", "", "", 401},
		{"/api/view", "", "wrong", 401},
		{"/api/view", "", "s3cret", 200},
		{"/api/view", "evil.example:80", "s3cret", http.StatusMisdirectedRequest},
		{"/?token=wrong", "", "", 401},
		{"/?token=s3cret", "", "", http.StatusSeeOther},
		{"/export.csv", "", "s3cret", 200},
		{"/api/history/nobody", "", "s3cret", 404},
		{"/static/app.js", "", "", 200},
	} {
		if got := get(t, ts.URL+tc.path, tc.host, tc.bearer).StatusCode; got != tc.want {
			t.Errorf("GET %s (host %q, token %q) = %d, want %d", tc.path, tc.host, tc.bearer, got, tc.want)
		}
	}
	resp := get(t, ts.URL+"/?token=s3cret", "", "")
	var cookie *http.Cookie
	for _, c := range resp.Cookies() {
		if c.Name == cookieName && c.HttpOnly {
			cookie = c
		}
	}
	if cookie == nil {
		t.Fatal("no HttpOnly cookie for the token")
	}
	req, _ := http.NewRequest(http.MethodGet, ts.URL+"/", nil)
	req.AddCookie(cookie)
	page, err := http.DefaultClient.Do(req)
	if err != nil || page.StatusCode != 200 {
		t.Fatalf("the page with the cookie: %v %v", page, err)
	}
	page.Body.Close()
}

// The stream sends the view at once and again after a change.
func TestServerStreamsChanges(t *testing.T) {
	s, ts := testServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, ts.URL+"/api/stream", nil)
	req.Header.Set("Authorization", "Bearer s3cret")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Fatalf("Content-Type %q", ct)
	}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	next := func() string {
		for sc.Scan() {
			if d, ok := strings.CutPrefix(sc.Text(), "data: "); ok {
				return d
			}
		}
		t.Fatalf("stream ended: %v", sc.Err())
		return ""
	}
	if first := next(); !strings.Contains(first, `"learners":[]`) {
		t.Fatalf("first view %s", first)
	}
	s.Board.Apply(ev(0, "ana", 1, Enter))
	if second := next(); !strings.Contains(second, `"learner":"ana"`) {
		t.Fatalf("after a change: %s", second)
	}
}
