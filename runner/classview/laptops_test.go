package classview

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func laptopServer(t *testing.T, dir string) (*Laptops, *httptest.Server) {
	t.Helper()
	b := NewBoard("room", []Lab{{ID: "selfhealing", Steps: []string{"a", "b", "c"}}})
	l := &Laptops{Board: b, Dir: dir, Class: "room", Rate: 2}
	if err := l.Open(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return l, startServer(t, &Server{Board: b, Token: "instructor", Laptops: l})
}

func post(t *testing.T, u, token string, body any) *http.Response {
	t.Helper()
	var b []byte
	switch v := body.(type) {
	case []byte:
		b = v
	default:
		b, _ = json.Marshal(v)
	}
	req, _ := http.NewRequest(http.MethodPost, u, bytes.NewReader(b))
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp
}

func joinAs(t *testing.T, ts *httptest.Server, secret, name string) (int, string) {
	t.Helper()
	b, _ := json.Marshal(JoinRequest{Secret: secret, Name: name})
	resp, err := http.Post(ts.URL+"/api/join", "application/json", bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var rep JoinReply
	_ = json.NewDecoder(resp.Body).Decode(&rep)
	return resp.StatusCode, rep.Token
}

// A learner's token appends that learner's events and no one else's; bad
// input gets a 4xx; a flood from one learner is slowed while another is
// served; a restarted server has every event and token it had.
func TestLaptopEvents(t *testing.T) {
	dir := t.TempDir()
	l, ts := laptopServer(t, dir)
	if code, _ := joinAs(t, ts, "wrong", "ana"); code != http.StatusForbidden {
		t.Errorf("a wrong secret: %d, want 403", code)
	}
	if code, _ := joinAs(t, ts, l.secret, "Ana Smith"); code != http.StatusBadRequest {
		t.Errorf("a bad name: %d, want 400", code)
	}
	_, ana := joinAs(t, ts, l.secret, "ana")
	_, bo := joinAs(t, ts, l.secret, "bo")
	now := time.Now().UTC().Truncate(time.Millisecond)
	// ana's token cannot speak for bo.
	if r := post(t, ts.URL+"/api/events", ana, EventsRequest{Events: []Event{{At: now, Learner: "bo", Lab: "selfhealing", Step: 1, What: Enter}}}); r.StatusCode != http.StatusNoContent {
		t.Fatalf("post: %d", r.StatusCode)
	}
	if h, _ := l.Board.History("ana"); len(h) != 1 {
		t.Fatalf("ana's history %v, want her one event", h)
	}
	if h, _ := l.Board.History("bo"); len(h) != 0 {
		t.Fatalf("bo got ana's event: %v", h)
	}
	for name, tc := range map[string]struct {
		token string
		body  any
		want  int
	}{
		"no token":    {"", EventsRequest{}, 401},
		"wrong token": {"nope", EventsRequest{}, 401},
		"malformed":   {bo, []byte("{not json"), 400},
		"oversized":   {bo, []byte(`{"events":[],"pad":"` + strings.Repeat("x", MaxEventsBody) + `"}`), 413},
		"too many":    {bo, EventsRequest{Events: make([]Event, MaxEventsPerPost+1)}, 413},
	} {
		if r := post(t, ts.URL+"/api/events", tc.token, tc.body); r.StatusCode != tc.want {
			t.Errorf("%s: %d, want %d", name, r.StatusCode, tc.want)
		}
	}
	// Events that cannot be right are left out, the others kept.
	r := post(t, ts.URL+"/api/events", bo, EventsRequest{Events: []Event{
		{At: now, Lab: "selfhealing", Step: 1, What: "hack"},
		{At: now, Lab: "selfhealing", Step: 0, What: Enter},
		{At: now.Add(48 * time.Hour), Lab: "selfhealing", Step: 1, What: Enter},
		{At: now, Lab: "selfhealing", Step: 1, What: Hint},
	}})
	if r.StatusCode != http.StatusNoContent || r.Header.Get("X-Labs-Skipped") != "3" {
		t.Errorf("a post with three bad events: %d, skipped %q; want 204, 3", r.StatusCode, r.Header.Get("X-Labs-Skipped"))
	}
	if h, _ := l.Board.History("bo"); len(h) != 1 || h[0].What != Hint {
		t.Errorf("bo's history %v, want the one good event", h)
	}
	// A name is its first joiner's.
	if code, _ := joinAs(t, ts, l.secret, "ana"); code != http.StatusConflict {
		t.Errorf("a second join as ana: %d, want 409", code)
	}
	// A flood from ana: slowed (429); bo is still served.
	limited := 0
	for i := 0; i < 30; i++ {
		ev := EventsRequest{Events: []Event{{At: now.Add(time.Duration(i+1) * time.Millisecond), Lab: "selfhealing", Step: 1, What: Hint}}}
		if post(t, ts.URL+"/api/events", ana, ev).StatusCode == http.StatusTooManyRequests {
			limited++
		}
	}
	if limited == 0 {
		t.Error("30 posts at once from one learner: none slowed")
	}
	time.Sleep(600 * time.Millisecond)
	if r := post(t, ts.URL+"/api/events", bo, EventsRequest{Events: []Event{{At: now, Lab: "selfhealing", Step: 1, What: Enter}}}); r.StatusCode != http.StatusNoContent {
		t.Errorf("bo during ana's flood: %d", r.StatusCode)
	}
	anaEvents, _ := l.Board.History("ana")

	// The server restarts: tokens and events are all still there.
	l.Close()
	l2, ts2 := laptopServer(t, dir)
	if h, _ := l2.Board.History("ana"); len(h) != len(anaEvents) {
		t.Fatalf("after a restart ana has %d events, want %d", len(h), len(anaEvents))
	}
	if r := post(t, ts2.URL+"/api/events", bo, EventsRequest{Events: []Event{{At: now.Add(time.Second), Lab: "selfhealing", Step: 1, What: Done}}}); r.StatusCode != http.StatusNoContent {
		t.Errorf("bo's token after a restart: %d", r.StatusCode)
	}
	if l2.secret != l.secret {
		t.Error("the class secret changed across a restart: join codes on the board are void")
	}
	// Freed by the instructor, the name can be joined again.
	if n, err := l2.Free("bo"); err != nil || n != 1 {
		t.Errorf("Free(bo) = %d, %v", n, err)
	}
	if code, _ := joinAs(t, ts2, l2.secret, "bo"); code != http.StatusOK {
		t.Errorf("joining as bo once freed: %d", code)
	}
}

func TestJoinCode(t *testing.T) {
	c := JoinCode{Addr: "192.168.1.5:8443", Class: "room", Secret: "abc123", Fingerprint: strings.Repeat("ab", 32)}
	got, err := ParseJoinCode(c.String())
	if err != nil || got != c {
		t.Fatalf("round trip: %+v %v", got, err)
	}
	if !IsJoinCode(c.String()) || IsJoinCode("learner-01.kubeconfig") {
		t.Error("IsJoinCode")
	}
	if _, err := ParseJoinCode(c.String()[:20]); err == nil {
		t.Error("a truncated code parsed")
	}
}
