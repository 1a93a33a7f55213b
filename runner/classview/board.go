// Package classview is the instructor's live view of a class: the events
// of every learner's progress folded into one board (where each learner
// is, since when, what their last failing check said, who is stuck), and
// the web page and JSON/CSV that show it. It knows nothing of Kubernetes:
// sources (a class cluster's progress ConfigMaps and the server's own
// verdicts) feed it events.
package classview

import (
	"fmt"
	"sort"
	"sync"
	"time"
)

// Event is one change of a learner's progress: a step entered or done, a
// hint shown, a solution run, an answer given, a failed check (Detail is
// its expected/found). At is when it happened on the learner's machine.
type Event struct {
	At      time.Time `json:"at"`
	Learner string    `json:"learner"`
	Lab     string    `json:"lab"`
	Step    int       `json:"step"` // 1-based
	What    string    `json:"what"`
	Detail  string    `json:"detail,omitempty"`
}

// The kinds of Event.What.
const (
	Enter  = "enter"
	Done   = "done"
	Hint   = "hint"
	Solve  = "solve"
	Answer = "answer"
	Fail   = "fail"
)

// Lab is what the board knows of a lab: its steps' titles and how long a
// step should take (the lab's duration over its steps), for the stuck rule.
type Lab struct {
	ID       string        `json:"id"`
	Title    string        `json:"title"`
	Steps    []string      `json:"steps"`
	StepTime time.Duration `json:"-"`
}

// historyMax bounds the events kept per learner.
const historyMax = 300

// Board folds events into rows. It is safe for concurrent use; watchers
// are told of every change.
type Board struct {
	Class string
	// Now is the clock (tests give a fake one).
	Now func() time.Time

	mu       sync.Mutex
	labs     map[string]Lab
	learners map[string]*learner
	subs     map[chan struct{}]bool
}

type learner struct {
	name, namespace string
	events          []Event // sorted by At, no duplicates
	seen            map[Event]bool
	// verified[lab][step]: the server saw the step pass (or trusted it:
	// done before the server watched, or not judgeable there).
	verified map[string]map[int]bool
	// verdict is the server's own latest verdict on the learner's step.
	verdict verdict
	// claim is the step their progress itself says (a shared cluster's
	// ConfigMap), which may be edited without any event.
	claim struct {
		lab  string
		step int
	}
}

type verdict struct {
	lab     string
	step    int
	passed  bool
	judged  bool
	found   string
	checked time.Time
}

// NewBoard is an empty board of class, knowing labs.
func NewBoard(class string, labs []Lab) *Board {
	b := &Board{Class: class, Now: time.Now, labs: map[string]Lab{}, learners: map[string]*learner{}, subs: map[chan struct{}]bool{}}
	for _, l := range labs {
		b.labs[l.ID] = l
	}
	return b
}

// AddLearner makes a learner's row before any event of theirs.
func (b *Board) AddLearner(name, namespace string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.get(name).namespace = namespace
	b.notify()
}

func (b *Board) get(name string) *learner {
	l, ok := b.learners[name]
	if !ok {
		l = &learner{name: name, seen: map[Event]bool{}, verified: map[string]map[int]bool{}}
		b.learners[name] = l
	}
	return l
}

// Apply adds events; duplicates (the same event read or sent again) and
// events of no lab are ignored, late ones take their place by time. It
// reports whether anything changed.
func (b *Board) Apply(evs ...Event) bool { return len(b.ApplyNew(evs...)) > 0 }

// ApplyNew is Apply, returning the events that were new to the board.
func (b *Board) ApplyNew(evs ...Event) []Event {
	b.mu.Lock()
	defer b.mu.Unlock()
	var fresh []Event
	for _, ev := range evs {
		if ev.Learner == "" || ev.Lab == "" || ev.Step < 1 {
			continue
		}
		ev.At = ev.At.UTC().Round(0)
		l := b.get(ev.Learner)
		if l.seen[ev] {
			continue
		}
		l.seen[ev] = true
		i := sort.Search(len(l.events), func(i int) bool { return l.events[i].At.After(ev.At) })
		l.events = append(l.events, Event{})
		copy(l.events[i+1:], l.events[i:])
		l.events[i] = ev
		if n := len(l.events) - historyMax; n > 0 {
			for _, old := range l.events[:n] {
				delete(l.seen, old)
			}
			l.events = append([]Event(nil), l.events[n:]...)
		}
		fresh = append(fresh, ev)
	}
	if len(fresh) > 0 {
		b.notify()
	}
	return fresh
}

// Verify records that the server saw lab's step pass for learner (or
// trusts it), so the learner may be shown past it.
func (b *Board) Verify(learnerName, lab string, steps ...int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	l := b.get(learnerName)
	if l.verified[lab] == nil {
		l.verified[lab] = map[int]bool{}
	}
	changed := false
	for _, s := range steps {
		if !l.verified[lab][s] {
			l.verified[lab][s], changed = true, true
		}
	}
	if changed {
		b.notify()
	}
}

// Claim records the step (1-based) learner's own progress says they are
// on in lab: a hand-edited progress moves it without an event.
func (b *Board) Claim(learnerName, lab string, step int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	l := b.get(learnerName)
	if l.claim.lab == lab && l.claim.step == step {
		return
	}
	l.claim.lab, l.claim.step = lab, step
	b.notify()
}

// Judged records the server's own verdict on learner's step of lab: found
// is the first failing check's expected/found, or why it was not judged.
func (b *Board) Judged(learnerName, lab string, step int, judged, passed bool, found string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	l := b.get(learnerName)
	v := verdict{lab: lab, step: step, passed: passed, judged: judged, found: found, checked: b.Now()}
	if l.verdict.lab == v.lab && l.verdict.step == v.step && l.verdict.passed == v.passed && l.verdict.judged == v.judged && l.verdict.found == v.found {
		return
	}
	l.verdict = v
	b.notify()
}

// Subscribe returns a channel that receives after every change (changes
// in a burst may be told once), and a function that ends the
// subscription.
func (b *Board) Subscribe() (<-chan struct{}, func()) {
	ch := make(chan struct{}, 1)
	b.mu.Lock()
	b.subs[ch] = true
	b.mu.Unlock()
	return ch, func() {
		b.mu.Lock()
		delete(b.subs, ch)
		b.mu.Unlock()
	}
}

func (b *Board) notify() {
	for ch := range b.subs {
		select {
		case ch <- struct{}{}:
		default: // a change is already pending for it
		}
	}
}

// Row is one learner as the board shows them.
type Row struct {
	Learner   string `json:"learner"`
	Namespace string `json:"namespace,omitempty"`
	Lab       string `json:"lab,omitempty"`
	Steps     int    `json:"steps,omitempty"`
	// Step is where the learner is, as the server can vouch: the first
	// step it has not seen pass. Claimed is where their progress says they
	// are; Claimed > Step means progress the server did not see happen.
	Step    int       `json:"step,omitempty"`
	Claimed int       `json:"claimed,omitempty"`
	Done    []bool    `json:"done,omitempty"` // per step, as the server vouches
	Since   time.Time `json:"since,omitzero"` // entered Claimed
	OnStep  Duration  `json:"on_step"`
	Hints   int       `json:"hints"`
	Solves  int       `json:"solves"`
	// FailsInRow counts failed checks since the step was entered or a
	// check last passed.
	FailsInRow int    `json:"fails_in_row"`
	LastFail   string `json:"last_fail,omitempty"`
	// Verdict is the server's own on Step: passing, failing (Found), or
	// not judged (the step's checks act, or read what only the learner's
	// machine has).
	Verdict  string    `json:"verdict,omitempty"`
	Found    string    `json:"found,omitempty"`
	Finished bool      `json:"finished,omitempty"`
	Stuck    bool      `json:"stuck"`
	StuckWhy string    `json:"stuck_why,omitempty"`
	Updated  time.Time `json:"updated,omitzero"`
}

// Duration is a time.Duration written in seconds.
type Duration time.Duration

func (d Duration) MarshalJSON() ([]byte, error) {
	return []byte(fmt.Sprintf("%.0f", time.Duration(d).Seconds())), nil
}

// StepCount is how many learners of a lab are on and past one step.
type StepCount struct {
	Title string `json:"title"`
	On    int    `json:"on"`
	Past  int    `json:"past"`
}

// LabView is one lab's steps with their counts.
type LabView struct {
	ID    string      `json:"id"`
	Title string      `json:"title"`
	Steps []StepCount `json:"steps"`
}

// View is the whole board at one moment.
type View struct {
	Class     string    `json:"class"`
	Generated time.Time `json:"generated"`
	Labs      []LabView `json:"labs"`
	Learners  []Row     `json:"learners"`
}

// View folds every learner's events into their row.
func (b *Board) View() View {
	b.mu.Lock()
	defer b.mu.Unlock()
	now := b.Now()
	v := View{Class: b.Class, Generated: now.UTC(), Learners: []Row{}, Labs: []LabView{}}
	counts := map[string]*LabView{}
	for _, l := range b.learners {
		r := b.row(l, now)
		v.Learners = append(v.Learners, r)
		lab, ok := b.labs[r.Lab]
		if !ok {
			continue
		}
		lv := counts[lab.ID]
		if lv == nil {
			lv = &LabView{ID: lab.ID, Title: lab.Title, Steps: make([]StepCount, len(lab.Steps))}
			for i, t := range lab.Steps {
				lv.Steps[i].Title = t
			}
			counts[lab.ID] = lv
		}
		for i := range lv.Steps {
			switch {
			case i+1 < r.Step || r.Finished:
				lv.Steps[i].Past++
			case i+1 == r.Step:
				lv.Steps[i].On++
			}
		}
	}
	for _, lv := range counts {
		v.Labs = append(v.Labs, *lv)
	}
	sort.Slice(v.Labs, func(i, j int) bool { return v.Labs[i].ID < v.Labs[j].ID })
	sort.Slice(v.Learners, func(i, j int) bool { return v.Learners[i].Learner < v.Learners[j].Learner })
	return v
}

// History is one learner's events, oldest first.
func (b *Board) History(name string) ([]Event, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	l, ok := b.learners[name]
	if !ok {
		return nil, false
	}
	return append([]Event{}, l.events...), true
}

// row folds l's events of their current lab (the lab of their latest
// event): the last step entered, and what happened on it since.
func (b *Board) row(l *learner, now time.Time) Row {
	r := Row{Learner: l.name, Namespace: l.namespace}
	if len(l.events) == 0 {
		return r
	}
	r.Lab = l.events[len(l.events)-1].Lab
	lab := b.labs[r.Lab]
	r.Steps = len(lab.Steps)
	done := map[int]bool{}
	for _, ev := range l.events {
		if ev.Lab != r.Lab {
			continue
		}
		r.Updated = ev.At
		switch ev.What {
		case Enter:
			if ev.Step != r.Claimed || r.Since.IsZero() {
				r.Since = ev.At
			}
			r.Claimed, r.FailsInRow, r.LastFail = ev.Step, 0, ""
			if ev.Step == 1 {
				done = map[int]bool{} // a reset starts over
			}
		case Done:
			done[ev.Step] = true
			r.FailsInRow = 0
		case Fail:
			r.FailsInRow++
			r.LastFail = ev.Detail
		case Hint:
			r.Hints++
		case Solve:
			r.Solves++
		}
	}
	if r.Claimed == 0 { // only older events: say where they were
		r.Claimed = l.events[len(l.events)-1].Step
	}
	if l.claim.lab == r.Lab && l.claim.step > 0 {
		r.Claimed = l.claim.step
	}
	// Shown: the first step the server has not seen pass, at most the
	// claimed one.
	r.Step = r.Claimed
	for s := 1; s < r.Claimed; s++ {
		if !l.verified[r.Lab][s] {
			r.Step = s
			break
		}
	}
	r.Finished = r.Steps > 0 && done[r.Steps] && r.Step == r.Claimed && (l.verified[r.Lab][r.Steps] || !lab.judgeable())
	r.Done = make([]bool, r.Steps)
	for i := range r.Done {
		r.Done[i] = i+1 < r.Step || r.Finished
	}
	if r.Step == r.Claimed && !r.Since.IsZero() {
		r.OnStep = Duration(now.Sub(r.Since))
	}
	if v := l.verdict; v.lab == r.Lab && v.step == r.Step {
		switch {
		case !v.judged:
			r.Verdict, r.Found = "not judged", v.found
		case v.passed:
			r.Verdict = "passing"
		default:
			r.Verdict, r.Found = "failing", v.found
		}
	}
	r.Stuck, r.StuckWhy = Stuck(r, lab.StepTime)
	return r
}

// judgeable: a lab the board has never been told of cannot be vouched for
// step by step; its last step done is taken as said.
func (l Lab) judgeable() bool { return len(l.Steps) > 0 }

// Stuck is the one rule for "this learner needs help": on the same step
// for over twice the time a step should take, or three failed checks in a
// row. A finished learner is never stuck.
func Stuck(r Row, stepTime time.Duration) (bool, string) {
	if r.Finished || r.Lab == "" {
		return false, ""
	}
	if r.FailsInRow >= StuckFails {
		return true, fmt.Sprintf("%d failed checks in a row", r.FailsInRow)
	}
	if stepTime > 0 && time.Duration(r.OnStep) > 2*stepTime {
		return true, fmt.Sprintf("on step %d for %s (a step takes about %s)", r.Step, roundMinutes(time.Duration(r.OnStep)), roundMinutes(stepTime))
	}
	return false, ""
}

// StuckFails is how many failed checks in a row make a learner stuck.
const StuckFails = 3

func roundMinutes(d time.Duration) string {
	if d < time.Minute {
		return d.Round(time.Second).String()
	}
	return fmt.Sprintf("%dm", int(d.Round(time.Minute)/time.Minute))
}
