package classview

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"
)

var t0 = time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC)

func testBoard(now *time.Time) *Board {
	b := NewBoard("k8s101", []Lab{{ID: "selfhealing", Title: "Self-healing", Steps: []string{"one", "two", "three", "four"}, StepTime: 5 * time.Minute}})
	b.Now = func() time.Time { return *now }
	return b
}

func ev(min int, who string, step int, what string) Event {
	return Event{At: t0.Add(time.Duration(min) * time.Minute), Learner: who, Lab: "selfhealing", Step: step, What: what}
}

func row(t *testing.T, b *Board, who string) Row {
	t.Helper()
	for _, r := range b.View().Learners {
		if r.Learner == who {
			return r
		}
	}
	t.Fatalf("no row for %s", who)
	return Row{}
}

// Events fold in time order whatever order they arrive in; the same event
// twice counts once.
func TestBoardOrderAndDuplicates(t *testing.T) {
	now := t0.Add(10 * time.Minute)
	b := testBoard(&now)
	b.Verify("ana", "selfhealing", 1, 2)
	late := []Event{ev(6, "ana", 3, Enter), ev(1, "ana", 1, Hint), ev(0, "ana", 1, Enter), ev(5, "ana", 2, Done), ev(2, "ana", 1, Done), ev(2, "ana", 2, Enter)}
	if !b.Apply(late...) {
		t.Fatal("Apply reported no change")
	}
	if b.Apply(late[1], late[3]) {
		t.Error("the same events again changed the board")
	}
	r := row(t, b, "ana")
	if r.Step != 3 || r.Claimed != 3 || r.Hints != 1 || !r.Since.Equal(t0.Add(6*time.Minute)) || time.Duration(r.OnStep) != 4*time.Minute {
		t.Fatalf("row = %+v, want step 3 since 09:06 (4m on it), 1 hint", r)
	}
	h, _ := b.History("ana")
	for i := 1; i < len(h); i++ {
		if h[i].At.Before(h[i-1].At) {
			t.Fatalf("history out of order: %v", h)
		}
	}
	if len(h) != 6 {
		t.Errorf("history has %d events, want 6", len(h))
	}
}

// A learner who resets starts over at step 1; one who changes machines
// (the same events read from their namespace again) is one row.
func TestBoardResetAndMachines(t *testing.T) {
	now := t0.Add(30 * time.Minute)
	b := testBoard(&now)
	b.Verify("bo", "selfhealing", 1, 2, 3)
	b.Apply(ev(0, "bo", 1, Enter), ev(1, "bo", 1, Done), ev(1, "bo", 2, Enter), ev(2, "bo", 2, Fail), ev(20, "bo", 1, Enter))
	r := row(t, b, "bo")
	if r.Step != 1 || r.FailsInRow != 0 || r.LastFail != "" {
		t.Fatalf("after a reset: %+v, want step 1 with no failures", r)
	}
	b.Apply(ev(0, "bo", 1, Enter), ev(1, "bo", 1, Done)) // read again from the other machine
	if n := len(b.View().Learners); n != 1 {
		t.Fatalf("%d rows, want 1", n)
	}
}

// Progress the server did not see happen is not believed: a learner whose
// ConfigMap claims step 4 is shown at the first step the server has not
// vouched for.
func TestBoardShowsTheVouchedStep(t *testing.T) {
	now := t0.Add(5 * time.Minute)
	b := testBoard(&now)
	b.Verify("cy", "selfhealing", 1)
	b.Apply(ev(0, "cy", 1, Enter), ev(1, "cy", 1, Done), ev(1, "cy", 2, Enter), ev(2, "cy", 4, Enter))
	r := row(t, b, "cy")
	if r.Step != 2 || r.Claimed != 4 || r.Done[1] || !r.Done[0] {
		t.Fatalf("row = %+v, want shown at step 2 (claims 4), step 1 done", r)
	}
	// A hand-edited progress claims step 4 without any event.
	b.Claim("cy", "selfhealing", 4)
	if r := row(t, b, "cy"); r.Claimed != 4 || r.Step != 2 {
		t.Fatalf("after a claim without events: %+v, want shown at 2, claims 4", r)
	}
	b.Judged("cy", "selfhealing", 2, true, false, "expected Deployment web has 3 available replicas; found 1")
	if r := row(t, b, "cy"); r.Verdict != "failing" || !strings.Contains(r.Found, "found 1") {
		t.Errorf("verdict = %q %q", r.Verdict, r.Found)
	}
	b.Verify("cy", "selfhealing", 2, 3)
	if r := row(t, b, "cy"); r.Step != 4 || r.Verdict != "" {
		t.Errorf("after the server saw steps 2 and 3 pass: %+v", r)
	}
	b.Apply(ev(3, "cy", 4, Done))
	b.Verify("cy", "selfhealing", 4)
	if r := row(t, b, "cy"); !r.Finished || r.Stuck {
		t.Errorf("the last step done: %+v, want finished, not stuck", r)
	}
	v := b.View()
	if c := v.Labs[0].Steps; c[3].Past != 1 || c[0].Past != 1 {
		t.Errorf("counts = %+v", c)
	}
}

// The stuck rule on a fake clock: over twice a step's time on one step, or
// three failed checks in a row; a passing check or a new step clears it.
func TestStuckRule(t *testing.T) {
	now := t0.Add(9 * time.Minute)
	b := testBoard(&now)
	b.Apply(ev(0, "dee", 1, Enter))
	if r := row(t, b, "dee"); r.Stuck {
		t.Fatalf("9m on a 5m step: stuck (%s)", r.StuckWhy)
	}
	now = t0.Add(10*time.Minute + time.Second)
	if r := row(t, b, "dee"); !r.Stuck || !strings.Contains(r.StuckWhy, "on step 1 for 10m") {
		t.Fatalf("10m01s on a 5m step: %+v, want stuck", r)
	}
	b.Apply(ev(10, "dee", 1, Done), ev(10, "dee", 2, Enter))
	b.Verify("dee", "selfhealing", 1)
	if r := row(t, b, "dee"); r.Stuck {
		t.Fatalf("a new step: still stuck (%s)", r.StuckWhy)
	}
	for i := 0; i < StuckFails; i++ {
		b.Apply(Event{At: t0.Add(10*time.Minute + time.Duration(i+1)*time.Second), Learner: "dee", Lab: "selfhealing", Step: 2, What: Fail, Detail: "expected x; found y"})
	}
	if r := row(t, b, "dee"); !r.Stuck || r.StuckWhy != "3 failed checks in a row" || r.LastFail != "expected x; found y" {
		t.Fatalf("three failures: %+v", r)
	}
}

// The JSON and CSV shapes a grade book reads.
func TestViewShapes(t *testing.T) {
	now := t0.Add(3 * time.Minute)
	b := testBoard(&now)
	b.AddLearner("eve", "k8s101-eve")
	b.Apply(ev(0, "eve", 1, Enter), ev(1, "eve", 1, Hint))
	var buf bytes.Buffer
	if err := json.NewEncoder(&buf).Encode(b.View()); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"class":"k8s101"`, `"learner":"eve"`, `"namespace":"k8s101-eve"`, `"step":1`, `"on_step":180`, `"hints":1`, `"stuck":false`, `"labs":[{"id":"selfhealing"`} {
		if !strings.Contains(buf.String(), want) {
			t.Errorf("JSON lacks %s: %s", want, buf.String())
		}
	}
	buf.Reset()
	if err := WriteCSV(&buf, b.View()); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 2 || lines[0] != strings.Join(csvHeader, ",") || !strings.HasPrefix(lines[1], "eve,k8s101-eve,selfhealing,1,1,4,0,false,3.0,1,0,0,false,") {
		t.Fatalf("CSV:\n%s", buf.String())
	}
}
