package runner

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync/atomic"
	"time"

	"github.com/labs-dev/labs/checks"
	"github.com/labs-dev/labs/content"
)

// ErrChecksFailed is returned when a step's checks did not all pass; the
// details were already printed.
var ErrChecksFailed = errors.New("checks failed")

// ErrStepMoved means the learner moved to another step (in another
// terminal) while a check ran: its verdict is not recorded.
var ErrStepMoved = errors.New("the step changed while it was being checked")

// CheckOptions tune `labs check`.
type CheckOptions struct {
	Timeout time.Duration // overrides how long each check waits when > 0
	JSON    bool
}

// CheckReport is `labs check --output json`.
type CheckReport struct {
	Lab      string         `json:"lab"`
	Step     int            `json:"step"`
	Title    string         `json:"title"`
	Passed   bool           `json:"passed"`
	Checks   []CheckOutcome `json:"checks"`
	Evidence *Evidence      `json:"evidence,omitempty"`
	Next     int            `json:"next_step,omitempty"`
	Complete bool           `json:"lab_complete,omitempty"`
	// Moved says the step changed in another terminal during the check, so
	// nothing was recorded.
	Moved string `json:"moved,omitempty"`
}

// CheckOutcome is one check's verdict.
type CheckOutcome struct {
	Expected string  `json:"expected"`
	Found    string  `json:"found"`
	Passed   bool    `json:"passed"`
	Seconds  float64 `json:"seconds"`
	Error    string  `json:"error,omitempty"`
}

// Evidence is checks.Evidence for output.
type Evidence struct {
	Namespace string   `json:"namespace"`
	Pods      []string `json:"pods"`
	Events    []string `json:"warning_events"`
}

// Check evaluates the current step against the cluster. On success it marks
// the step done and shows the next; on failure it prints each failing check
// as expected/found, with evidence, and returns ErrChecksFailed. Progress is
// read before the wait and changed after it, under the lock, only if the
// learner is still on the step that was checked.
func (r *Runner) Check(ctx context.Context, opts CheckOptions) error {
	s, err := r.current(ctx)
	if err != nil {
		return err
	}
	v, err := r.evaluate(ctx, s, opts)
	if err != nil {
		return err
	}
	after, err := r.record(ctx, s, &v)
	if err != nil {
		return err
	}
	if opts.JSON {
		if err := WriteJSON(r.Out, v.report); err != nil {
			return err
		}
	} else {
		r.printCheck(v.report, s.lab, after)
	}
	switch {
	case v.report.Moved != "":
		return fmt.Errorf("%w (%s): nothing was recorded; run `labs check` again", ErrStepMoved, v.report.Moved)
	case !v.report.Passed:
		return ErrChecksFailed
	}
	return nil
}

// verdict is a step judged against the cluster, not yet recorded.
type verdict struct {
	report    CheckReport
	nowPassed []int             // checks that passed in this run
	captured  map[string]string // what they captured
	next      *checks.Baseline  // the next step's baseline, when this one passed
	// release lets go of the claim on moving past the step (record calls
	// it): held from the next step's setup until the move is written.
	release func()
	// elsewhere: another command judged the same pass and recorded it
	// first; this one writes nothing and reports the step done.
	elsewhere bool
}

// lockAdvance takes the lock that one command at a time holds while it
// runs a step's setup and moves the learner there, saying why it waits.
func (r *Runner) lockAdvance(ctx context.Context) (release func(), err error) {
	return lockFile(ctx, r.Paths.advanceLock(), func() {
		r.Display.Status(r.tr("another labs command is moving past this step (running the next step's setup): waiting for it"))
	})
}

// claimAdvance claims moving past the judged step, so that of two
// commands judging it at once (labs check, labs watch) only one runs the
// next step's setup. When another command moved first nothing is held:
// elsewhere says it recorded this very step as done (the learner sees the
// step done), else moved says where the learner went instead.
func (r *Runner) claimAdvance(ctx context.Context, s *session) (release func(), moved string, elsewhere bool, err error) {
	release, err = r.lockAdvance(ctx)
	if err != nil {
		return nil, "", false, fmt.Errorf("claiming the move past step %d: %w", s.prog.Step+1, err)
	}
	cur, err := r.store().Load(ctx, s.lab.ID)
	if err != nil {
		release()
		return nil, "", false, err
	}
	if cur != nil {
		cur.fit(s.lab)
		if !cur.sameStep(s.prog) {
			release()
			if cur.Step == s.prog.Step+1 && cur.Done[s.prog.Step] {
				return nil, "", true, nil
			}
			return nil, fmt.Sprintf(r.tr("you are now at step %d"), cur.Step+1), false, nil
		}
	}
	return release, "", false, nil
}

// evaluate judges the current step: it waits for each check, gathers
// evidence for the failing ones and, when all pass, prepares the next step
// (its setup and baseline). It changes no progress, but a passing verdict
// may hold the claim on moving past the step: give it to record.
func (r *Runner) evaluate(ctx context.Context, s *session, opts CheckOptions) (verdict, error) {
	lab, prog := s.lab, s.prog
	step := lab.Steps[prog.Step]
	specs := r.stepChecks(lab, prog.Step, r.ns(lab), prog.Captured)
	if err := uncaptured(lab, prog.Step, specs); err != nil {
		return verdict{}, err
	}
	c, err := r.client()
	if err != nil {
		return verdict{}, err
	}
	wait := checks.Bound(specs, opts.Timeout)
	// A short --timeout bounds the wait for the cluster's state, but an API
	// server gets a few seconds to answer at all before it is called dead.
	if err := r.reachable(ctx, c, min(max(wait, 3*time.Second), 10*time.Second)); err != nil {
		return verdict{}, err
	}
	if err := r.settle(ctx, c); err != nil {
		return verdict{}, err
	}
	passed := map[int]bool{}
	for _, i := range prog.Passed {
		passed[i] = true
	}
	if !opts.JSON {
		r.Display.Status(fmt.Sprintf(r.tr("checking step %d/%d: %s (%d checks, up to %s)"), prog.Step+1, len(lab.Steps), step.Title, len(specs), wait))
	}
	eng, done, err := r.engineFor(c, r.ns(lab), prog.Captured)
	if err != nil {
		return verdict{}, err
	}
	defer done()
	var settled atomic.Int32
	settled.Store(int32(len(passed)))
	stopTicker := r.tickWhileWaiting(func(el time.Duration) string {
		return fmt.Sprintf(r.tr("waiting: %d of %d checks settled (%.0fs)"), settled.Load(), len(specs), el.Seconds())
	}, opts.JSON)
	results, err := eng.Run(ctx, specs, checks.Options{Wait: true, Passed: passed, Baseline: prog.Baseline, Timeout: opts.Timeout, Answer: prog.Answer,
		OnResult: func(checks.Result) { settled.Add(1) }})
	stopTicker()
	if errors.Is(err, checks.ErrNotSynced) {
		return verdict{}, fmt.Errorf("%w (%v); `labs status` shows what is wrong, `labs start LAB` brings it back", ErrUnreachable, err)
	}
	if errors.Is(err, checks.ErrForbidden) {
		return verdict{}, fmt.Errorf("step %d cannot be checked: you are %w; the lab needs a right your account lacks: ask your instructor (`labs doctor` lists what you may do)", prog.Step+1, err)
	}
	if err != nil {
		return verdict{}, fmt.Errorf("checking step %d: %w", prog.Step+1, err)
	}
	if ctx.Err() != nil {
		return verdict{}, ctx.Err()
	}
	v := verdict{report: CheckReport{Lab: lab.ID, Step: prog.Step + 1, Title: step.Title, Passed: true}}
	var failing []checks.Concern
	for i, res := range results {
		v.report.Checks = append(v.report.Checks, outcome(res))
		if res.Passed {
			v.nowPassed = append(v.nowPassed, i)
			v.captured = merged(v.captured, res.Captured)
			continue
		}
		v.report.Passed = false
		failing = append(failing, checks.ConcernOf(specs[i]))
	}
	switch {
	case !v.report.Passed:
		if ev, err := checks.CollectEvidence(ctx, eng.Dynamic, r.ns(lab), failing, 8); err == nil {
			v.report.Evidence = &Evidence{Namespace: r.ns(lab), Pods: ev.Pods, Events: ev.Events}
		}
	case prog.Step+1 < len(lab.Steps):
		release, moved, elsewhere, err := r.claimAdvance(ctx, s)
		if err != nil {
			return verdict{}, err
		}
		if moved != "" || elsewhere {
			v.report.Moved, v.elsewhere = moved, elsewhere
			return v, nil
		}
		captured := merged(merged(nil, prog.Captured), v.captured)
		if err := r.runStepSetup(ctx, lab, prog.Step+1, r.ns(lab), captured, r.ErrOut); err != nil {
			release()
			return verdict{}, err
		}
		if v.next, err = r.baseline(ctx, lab, prog.Step+1, captured); err != nil {
			release()
			return verdict{}, err
		}
		v.release = release
	}
	return v, nil
}

// record writes a verdict into the learner's progress, under the lock, only
// if the learner is still on the step that was judged (else it marks the
// report as moved and writes nothing). It returns the progress after.
func (r *Runner) record(ctx context.Context, s *session, v *verdict) (*Progress, error) {
	if v.release != nil {
		defer v.release()
	}
	lab, prog := s.lab, s.prog
	var after *Progress
	err := r.store().Update(ctx, lab.ID, func(cur *Progress) (*Progress, error) {
		if cur == nil {
			return nil, ErrNoSession
		}
		cur.fit(lab)
		if v.elsewhere {
			// Recorded by the command that moved first: nothing to write.
			v.report.Next, after = cur.Step+1, cur
			return nil, nil
		}
		if !cur.sameStep(prog) {
			v.report.Moved = fmt.Sprintf(r.tr("you are now at step %d"), cur.Step+1)
			return nil, nil
		}
		for _, i := range v.nowPassed {
			if !contains(cur.Passed, i) {
				cur.Passed = append(cur.Passed, i)
			}
		}
		cur.Captured = merged(cur.Captured, v.captured)
		if !v.report.Passed {
			cur.note("fail", failures(v.report))
		}
		if v.report.Passed {
			cur.Done[cur.Step] = true
			cur.note("done", "")
			if cur.Step+1 < len(lab.Steps) {
				cur.enter(cur.Step+1, v.next)
				v.report.Next = cur.Step + 1
			} else {
				v.report.Complete = true
			}
		}
		after = cur
		return cur, nil
	})
	return after, err
}

// failures says what the failing checks of a report expected and found,
// one line each, for the learner's history.
func failures(rep CheckReport) string {
	var b strings.Builder
	for _, c := range rep.Checks {
		if c.Passed {
			continue
		}
		if b.Len() > 0 {
			b.WriteString("\n")
		}
		fmt.Fprintf(&b, "expected %s; found %s", c.Expected, c.Found)
		if c.Error != "" {
			fmt.Fprintf(&b, " (%s)", c.Error)
		}
	}
	return b.String()
}

// merged adds src's entries to dst (made when needed) and returns it.
func merged(dst, src map[string]string) map[string]string {
	if len(src) > 0 && dst == nil {
		dst = make(map[string]string, len(src))
	}
	for k, v := range src {
		dst[k] = v
	}
	return dst
}

// uncaptured says which value a step's checks need that no check has
// captured yet: the learner went past the step that captures it (labs
// goto), so the check cannot know which object is meant.
func uncaptured(lab *content.Lab, step int, specs []checks.Spec) error {
	for _, s := range specs {
		b, _ := s.MarshalJSON()
		for _, name := range checks.VarRefs(string(b)) {
			if at, ok := lab.Captures[name]; ok {
				return fmt.Errorf("step %d's checks need ${%s}, which the check of step %d records when it passes, and it has not passed in this session: `labs goto %d` and `labs check` there first", step+1, name, at+1, at+1)
			}
		}
	}
	return nil
}

func contains(xs []int, x int) bool {
	for _, v := range xs {
		if v == x {
			return true
		}
	}
	return false
}

// tickWhileWaiting shows a live line each second on a terminal while a long
// wait runs; piped or with JSON output it stays quiet. Call the returned
// function to stop it.
func (r *Runner) tickWhileWaiting(msg func(time.Duration) string, quiet bool) func() {
	if quiet || !r.Display.Interactive() {
		return func() {}
	}
	done := make(chan struct{})
	finished := make(chan struct{})
	start := time.Now()
	go func() {
		defer close(finished)
		t := time.NewTicker(time.Second)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				r.Display.Live(msg(time.Since(start)))
			}
		}
	}()
	return func() {
		close(done)
		<-finished
		r.Display.EndLive()
	}
}

func (r *Runner) printCheck(rep CheckReport, lab *content.Lab, prog *Progress) {
	for _, c := range rep.Checks {
		if c.Passed {
			fmt.Fprintf(r.Out, "  %s %s\n", r.Style.Green("✓"), c.Expected)
		} else if c.Error != "" {
			fmt.Fprintf(r.Out, "  %s %s\n", r.Style.Red("✗"), fmt.Sprintf(r.tr("expected %s; could not check: %s"), c.Expected, c.Error))
		} else {
			fmt.Fprintf(r.Out, "  %s %s\n", r.Style.Red("✗"), fmt.Sprintf(r.tr("expected %s; found %s"), c.Expected, c.Found))
		}
	}
	fmt.Fprintln(r.Out)
	switch {
	case rep.Moved != "":
		fmt.Fprintf(r.Out, r.tr("The step changed in another terminal while this check ran (%s), so this verdict was not recorded. Run `labs check` again.")+"\n", rep.Moved)
	case rep.Complete:
		fmt.Fprintf(r.Out, "%s %s\n", r.Style.Green("✓"), fmt.Sprintf(r.tr("You finished %s: all %d steps done."), lab.Title, len(lab.Steps)))
	case rep.Passed:
		fmt.Fprintf(r.Out, "%s %s\n\n", r.Style.Green("✓"), fmt.Sprintf(r.tr("Step %d done."), rep.Step))
		_ = r.showStep(lab, prog)
	default:
		if ev := rep.Evidence; ev != nil {
			fmt.Fprintf(r.Out, "%s\n", r.Style.Bold(fmt.Sprintf(r.tr("What the cluster shows (namespace %s):"), ev.Namespace)))
			printList(r.Out, r.tr("pods"), ev.Pods, r.tr("none"))
			printList(r.Out, r.tr("recent warning events"), ev.Events, r.tr("none"))
			fmt.Fprintln(r.Out)
		}
		fmt.Fprintln(r.Out, r.tr("Not yet. Fix what is listed above and run `labs check` again; `labs hint` gives a nudge, `labs solve` runs the reference solution."))
	}
}

func printList(w io.Writer, title string, items []string, none string) {
	if len(items) == 0 {
		fmt.Fprintf(w, "  %s: %s\n", title, none)
		return
	}
	fmt.Fprintf(w, "  %s:\n", title)
	for _, it := range items {
		fmt.Fprintf(w, "    %s\n", it)
	}
}

func outcome(res checks.Result) CheckOutcome {
	o := CheckOutcome{Expected: res.Expected, Found: res.Found, Passed: res.Passed, Seconds: res.Elapsed.Seconds()}
	if res.Err != nil {
		o.Error = res.Err.Error()
	}
	return o
}

// WriteJSON prints v as indented JSON, for --output json.
func WriteJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
