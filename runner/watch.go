package runner

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"

	"github.com/labs-dev/labs/assets/labapp/loadreport"
	"github.com/labs-dev/labs/checks"
	"github.com/labs-dev/labs/content"
)

// What `labs watch` shows is sent as these messages; the view (a full
// screen on a terminal, one line per change on a pipe) is cmd/watch's.

// WatchStep: the step being watched (again, after a move).
type WatchStep struct {
	Lab, LabTitle string
	Namespace     string
	Step, Steps   int // Step is 1-based
	Title         string
	// Render is the step's text for a width, with the lab's facts filled in.
	Render func(width int) string
}

// WatchChecks: the step's checks as they stand now.
type WatchChecks struct {
	Step   int
	Checks []CheckOutcome
}

// WatchDone: the step passed and is recorded (as `labs check` records it);
// Complete when it was the lab's last.
type WatchDone struct {
	Step     int
	Complete bool
}

// WatchStatus is a line about labs itself: the cluster went away, a
// solution ran. Problem marks what needs the learner's attention.
type WatchStatus struct {
	Text    string
	Problem bool
}

// WatchLoad is a load running in the namespace (`labs load`, or an
// availability check's): its report each second, then Done.
type WatchLoad struct {
	Pod      string
	Progress loadreport.Progress
	Done     bool
}

// WatchHint is the step's hint, when asked for.
type WatchHint struct{ Text string }

// WatchAction is what the learner asks of `labs watch`.
type WatchAction int

// The learner's actions.
const (
	ActRecheck WatchAction = iota // judge the step now, as `labs check` does
	ActNext
	ActPrev
	ActHint
	ActSolve // run the reference solution (the view asks first)
)

// healthEvery is how often labs watch asks whether the API server answers.
const healthEvery = 5 * time.Second

// answersAgain is said once the cluster is back after it did not answer.
const answersAgain = "the cluster answers again: watching"

// advancePause is how long a passed step stays on screen, all green,
// before the next one is shown.
const advancePause = 1500 * time.Millisecond

// Watch follows the current lab until ctx ends: it sends the step, its
// checks each time their verdicts change (the check engine's watch: the
// same checks as `labs check`, re-judged on every change of what they
// read), the namespace's events, and, when every check passes, records
// the step through the same path as `labs check` and moves to the next.
// It changes the cluster only when asked (ActSolve, and a step's own setup
// when the step is entered). The cluster going away is said and waited
// out.
func (r *Runner) Watch(ctx context.Context, send func(any), actions <-chan WatchAction) error {
	if _, err := r.current(ctx); err != nil {
		return err
	}
	eventsFor := ""
	stopEvents := func() {}
	defer func() { stopEvents() }()
	outage := false // the last step watch ended on a cluster problem
	for ctx.Err() == nil {
		s, err := r.current(ctx)
		if err != nil {
			send(WatchStatus{Text: err.Error(), Problem: true})
			if !sleepCtx(ctx, 2*time.Second) {
				return nil
			}
			continue
		}
		if r.ns(s.lab) != eventsFor {
			stopEvents()
			eventsFor = r.ns(s.lab)
			stopEvents = r.watchEvents(ctx, eventsFor, send)
		}
		send(r.watchStep(s))
		err = r.watchStepUntil(ctx, s, send, actions, outage)
		outage = err != nil
		if outage {
			send(WatchStatus{Text: err.Error(), Problem: true})
			if !sleepCtx(ctx, 3*time.Second) {
				return nil
			}
		}
	}
	return nil
}

func (r *Runner) watchStep(s *session) WatchStep {
	lab, prog := s.lab, s.prog
	style := r.styleFor(lab, r.ns(lab), prog.Captured)
	prose := lab.Steps[prog.Step].Prose
	return WatchStep{
		Lab: lab.ID, LabTitle: lab.Title, Namespace: r.ns(lab),
		Step: prog.Step + 1, Steps: len(lab.Steps), Title: lab.Steps[prog.Step].Title,
		Render: func(width int) string {
			st := style
			st.Color, st.Width = false, max(width, 20)
			var b strings.Builder
			_ = content.Render(&b, prose, st)
			return strings.TrimRight(b.String(), "\n")
		},
	}
}

// watchEvents streams the namespace's events to send until stopped; a
// lost cluster is relisted by the informer when it is back.
func (r *Runner) watchEvents(ctx context.Context, ns string, send func(any)) (stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	c, err := r.streamClient()
	if err != nil {
		send(WatchStatus{Text: "events: " + err.Error(), Problem: true})
		return cancel
	}
	go func() {
		_ = streamEvents(ctx, c, EventsOptions{Namespace: ns, Recent: 10}, func(l EventLine) { send(l) })
	}()
	go r.watchLoads(ctx, c, ns, send)
	return cancel
}

// watchLoads follows every load pod of the namespace (labs load run in
// another terminal, an availability check's) and sends its reports.
func (r *Runner) watchLoads(ctx context.Context, c kubernetes.Interface, ns string, send func(any)) {
	f := informers.NewSharedInformerFactoryWithOptions(c, 0, informers.WithNamespace(ns),
		informers.WithTweakListOptions(func(lo *metav1.ListOptions) { lo.LabelSelector = "app.kubernetes.io/name=labs-load" }),
		informers.WithTransform(checks.DropManagedFields))
	inf := f.Core().V1().Pods().Informer()
	var mu sync.Mutex
	followed := map[string]bool{}
	follow := func(obj any) {
		p, ok := obj.(*corev1.Pod)
		if !ok || p.Status.Phase != corev1.PodRunning {
			return
		}
		mu.Lock()
		defer mu.Unlock()
		if followed[p.Name] {
			return
		}
		followed[p.Name] = true
		lp := &loadPod{c: c, stream: c, ns: ns, name: p.Name}
		go func() {
			_, _ = lp.follow(ctx, MaxLoadDuration, func(pr loadreport.Progress) { send(WatchLoad{Pod: p.Name, Progress: pr}) })
			send(WatchLoad{Pod: p.Name, Done: true})
		}()
	}
	if _, err := inf.AddEventHandler(cache.ResourceEventHandlerFuncs{AddFunc: follow, UpdateFunc: func(_, o any) { follow(o) }}); err != nil {
		return
	}
	f.Start(ctx.Done())
	<-ctx.Done()
	f.Shutdown()
}

// errMoved ends the watch of a step that is no longer current.
var errMoved = errors.New("the step changed")

// watchStepUntil watches step s until it passes (recorded; the next one
// follows after a pause), the learner moves, or the progress changes in
// another terminal (labs next, labs check there). An error is a problem
// with the cluster: Watch says so and tries again, with afterOutage set so
// that the first verdicts also say the cluster is back.
func (r *Runner) watchStepUntil(ctx context.Context, s *session, send func(any), actions <-chan WatchAction, afterOutage bool) error {
	lab, prog := s.lab, s.prog
	c, err := r.client()
	if err != nil {
		return err
	}
	if err := r.reachable(ctx, c, 10*time.Second); err != nil {
		return fmt.Errorf(r.tr("%w; labs watch goes on when it is back"), err)
	}
	specs := r.stepChecks(lab, prog.Step, r.ns(lab), prog.Captured)
	if err := uncaptured(lab, prog.Step, specs); err != nil {
		send(WatchStatus{Text: err.Error(), Problem: true})
	}
	eng, done, err := r.engineFor(c, r.ns(lab), prog.Captured)
	if err != nil {
		return err
	}
	defer done()
	passed := map[int]bool{}
	for _, i := range prog.Passed {
		passed[i] = true
	}
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	latest := make(chan []checks.Result, 1)
	ended := make(chan error, 1)
	go func() {
		ended <- eng.Watch(wctx, specs, checks.Options{Passed: passed, Baseline: prog.Baseline, Answer: prog.Answer}, func(rs []checks.Result) {
			select { // keep only the newest verdicts
			case <-latest:
			default:
			}
			latest <- rs
		})
	}()
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	// The informers wait out a lost API server by themselves, silently:
	// the learner is told, and the step is watched afresh once it is back.
	health := time.NewTicker(healthEvery)
	defer health.Stop()
	down := false
	for {
		select {
		case <-ctx.Done():
			return nil
		case rs := <-latest:
			if afterOutage {
				afterOutage = false
				send(WatchStatus{Text: r.tr(answersAgain)})
			}
			out := make([]CheckOutcome, len(rs))
			for i, res := range rs {
				out[i] = outcome(res)
			}
			send(WatchChecks{Step: prog.Step + 1, Checks: out})
			if allPassed(rs) {
				cancel()
				return r.watchRecord(ctx, send)
			}
		case err := <-ended:
			if err == nil {
				return nil
			}
			return fmt.Errorf(r.tr("watching the checks: %w; labs watch goes on when the cluster is back"), err)
		case a := <-actions:
			done, err := r.watchAct(ctx, a, send)
			if done || err != nil {
				return err
			}
		case <-health.C:
			err := r.apiReady(ctx, c, 3*time.Second)
			switch {
			case ctx.Err() != nil:
				return nil
			case err != nil && !down:
				down = true
				send(WatchStatus{Text: fmt.Sprintf(r.tr("%v: labs watch goes on when it is back (`labs status` says why; `labs start` resumes a stopped cluster)"), err), Problem: true})
			case err == nil && down:
				send(WatchStatus{Text: r.tr(answersAgain)})
				return nil
			}
		case <-tick.C:
			// Another terminal may have moved or passed the step.
			if now, err := r.current(ctx); err == nil && (now.lab.ID != lab.ID || !now.prog.sameStep(prog)) {
				return nil
			}
		}
	}
}

// watchRecord judges the step as `labs check` does and records it; on a
// pass the green stays a moment before the next step.
func (r *Runner) watchRecord(ctx context.Context, send func(any)) error {
	s, err := r.current(ctx)
	if err != nil {
		return err
	}
	v, err := r.evaluate(ctx, s, CheckOptions{Timeout: 10 * time.Second, JSON: true})
	if err != nil {
		return err
	}
	if _, err := r.record(ctx, s, &v); err != nil {
		return err
	}
	out := v.report.Checks
	send(WatchChecks{Step: s.prog.Step + 1, Checks: out})
	if v.report.Passed && v.report.Moved == "" {
		send(WatchDone{Step: s.prog.Step + 1, Complete: v.report.Complete})
		if v.report.Complete {
			<-ctx.Done() // nothing more to watch: the view says so
			return nil
		}
		sleepCtx(ctx, advancePause)
	}
	return nil
}

// watchAct does what the learner asked; done means the step's watch must
// start again (the step moved or was judged).
func (r *Runner) watchAct(ctx context.Context, a WatchAction, send func(any)) (done bool, err error) {
	switch a {
	case ActRecheck:
		send(WatchStatus{Text: r.tr("checking now, as labs check does…")})
		return true, r.watchRecord(ctx, send)
	case ActNext, ActPrev:
		delta := 1
		if a == ActPrev {
			delta = -1
		}
		if err := r.Move(ctx, delta); err != nil {
			send(WatchStatus{Text: err.Error(), Problem: true})
			return false, nil
		}
		return true, nil
	case ActHint:
		s, err := r.current(ctx)
		if err != nil {
			return false, err
		}
		h := strings.TrimSpace(r.styleFor(s.lab, r.ns(s.lab), s.prog.Captured).Expand(s.lab.Steps[s.prog.Step].Hint))
		if h == "" {
			h = r.tr("This step has no hint. `labs solve` runs the reference solution.")
		}
		send(WatchHint{Text: h})
	case ActSolve:
		send(WatchStatus{Text: r.tr("running the reference solution…")})
		if err := r.Solve(ctx); err != nil {
			send(WatchStatus{Text: err.Error(), Problem: true})
			return false, nil
		}
		send(WatchStatus{Text: r.tr("reference solution applied: the checks follow the cluster")})
	}
	return false, nil
}

// sleepCtx waits d or until ctx ends; false when ctx ended.
func sleepCtx(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
