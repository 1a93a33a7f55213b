package checks

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/dynamic/dynamicinformer"
	"k8s.io/client-go/tools/cache"
)

// Result is the verdict on one check of a step.
type Result struct {
	Index    int    // position in the step's check block
	Expected string // what had to hold
	Found    string // what the cluster showed last
	Passed   bool
	Elapsed  time.Duration
	Err      error // the check could not be judged (cancelled, bad spec)
	// Captured are the values a passing check's `capture:` names.
	Captured map[string]string
}

// Sentence is the one-line verdict a learner reads.
func (r Result) Sentence() string {
	if r.Err != nil {
		return fmt.Sprintf("expected %s; could not check: %v", r.Expected, r.Err)
	}
	return fmt.Sprintf("expected %s; found %s", r.Expected, r.Found)
}

// Options tune one run of the engine.
type Options struct {
	// Wait makes each check wait, event by event, up to its timeout for its
	// condition to hold. Without it every check is judged once, now (what
	// `labs test` needs before running a solution).
	Wait bool
	// Passed lists checks that already passed earlier in this step: a passed
	// check stays passed, so they are reported and not judged again.
	Passed map[int]bool
	// Baseline is the namespace as it was when the step started.
	Baseline *Baseline
	// OnResult, if set, is called as each check settles.
	OnResult func(Result)
	// Timeout, when positive, replaces each state check's own timeout (how
	// long to wait). Active checks keep theirs: it bounds their action.
	Timeout time.Duration
	// Answer is what the learner answered in this step (`labs answer`), for
	// answer checks.
	Answer string
}

// ErrNotSynced means the engine could not read the cluster's state in time:
// the API server does not answer.
var ErrNotSynced = errors.New("the API server did not answer in time")

// ErrForbidden means the learner may not read what a check reads (RBAC
// refused the list or watch): said at once, not after the timeout.
var ErrForbidden = errors.New("not allowed to read")

// Engine evaluates checks against a live cluster: the lab's namespace, and
// whatever else (other namespaces, cluster-scoped kinds, CRDs) a step's
// checks name, watched through dynamic informers.
type Engine struct {
	Dynamic dynamic.Interface
	// Mapper finds how the cluster serves a kind (discovery).
	Mapper    meta.RESTMapper
	Namespace string
	// Prober runs active checks; nil fails them with an error.
	Prober Prober
	// Clock reads the API server's time, which object and event times are
	// written in (a laptop VM's clock may drift from it); nil: this
	// machine's clock.
	Clock func(ctx context.Context) time.Time
}

// now is the cluster's time, by Clock when there is one.
func (e *Engine) now(ctx context.Context) time.Time {
	if e.Clock != nil {
		return e.Clock(ctx)
	}
	return time.Now()
}

// expectedOf is what a check must show: the author's description when the
// lab gives one (a CEL expression is no sentence for a learner), else the
// type's own.
func expectedOf(s Spec, c Check) string {
	if s.Description != "" {
		return s.Description
	}
	return c.Expected()
}

// compile compiles specs, naming the failing one.
func compile(specs []Spec) ([]Check, error) {
	compiled := make([]Check, len(specs))
	for i, s := range specs {
		c, err := Compile(s)
		if err != nil {
			return nil, fmt.Errorf("check %d: %w", i+1, err)
		}
		compiled[i] = c
	}
	return compiled, nil
}

// needer is a check that reads the cluster's objects.
type needer interface{ Needs() []Resource }

// needs is the union of what the state and probing checks read.
func needs(compiled []Check) []Resource {
	seen := map[Resource]bool{}
	var out []Resource
	for _, c := range compiled {
		n, ok := c.(needer)
		if !ok {
			continue
		}
		for _, r := range n.Needs() {
			if !seen[r] {
				seen[r] = true
				out = append(out, r)
			}
		}
	}
	return out
}

// Run judges the specs concurrently, once: each check passes the moment an
// informer event produces a state in which it holds, or fails at its own
// timeout (`labs check`, `labs test`).
func (e *Engine) Run(ctx context.Context, specs []Spec, opts Options) ([]Result, error) {
	compiled, err := compile(specs)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	w, err := e.watch(ctx, needs(compiled), e.syncDeadline(specs, compiled, opts))
	if err != nil {
		return nil, err
	}
	defer w.shutdown()
	defer cancel() // shutdown waits for informers, which stop on ctx.

	results := make([]Result, len(specs))
	var wg sync.WaitGroup
	var mu sync.Mutex
	wait := stepWait(specs, compiled, opts.Timeout)
	for i, c := range compiled {
		if opts.Passed[i] {
			results[i] = Result{Index: i, Expected: expectedOf(specs[i], c), Found: "passed earlier in this step", Passed: true}
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := e.judge(ctx, w, i, c, wait, opts)
			r.Index, r.Expected = i, expectedOf(specs[i], c)
			results[i] = r
			if opts.OnResult != nil {
				mu.Lock()
				opts.OnResult(r)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return results, nil
}

// Watch evaluates the state checks of specs on every change of what they
// read, until ctx ends, and calls emit with every check's current verdict
// each time one of them changes (a live view). Active checks are not run:
// they act on the cluster.
func (e *Engine) Watch(ctx context.Context, specs []Spec, opts Options, emit func([]Result)) error {
	compiled, err := compile(specs)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	w, err := e.watch(ctx, needs(compiled), e.syncDeadline(specs, compiled, Options{Wait: true}))
	if err != nil {
		return err
	}
	defer w.shutdown()
	defer cancel()
	var last []Result
	for {
		changed := w.changed()
		st := w.snapshot(e.Namespace, opts.Baseline)
		st.Answer = opts.Answer
		now := make([]Result, len(compiled))
		for i, c := range compiled {
			now[i] = Result{Index: i, Expected: expectedOf(specs[i], c)}
			switch c := c.(type) {
			case StateCheck:
				now[i].Passed, now[i].Found, _ = evaluateState(c, st, &now[i].Captured)
			case ProbeCheck:
				now[i].Passed, now[i].Found, now[i].Err = c.Probe(ctx, st, e.Prober, opts.Baseline.captured(i))
				if f, ok := settledFound(now[i].Err); ok {
					now[i].Found, now[i].Err = f, nil
				}
			default:
				now[i].Found = "measured only by `labs check`"
			}
			if opts.Passed[i] {
				now[i].Passed, now[i].Found = true, "passed earlier in this step"
			}
		}
		if !sameVerdicts(last, now) {
			emit(now)
			last = now
		}
		select {
		case <-changed:
		case <-time.After(reprobe):
		case <-ctx.Done():
			return nil
		}
	}
}

// settled is a failing verdict that waiting cannot change (a wrong answer
// stays wrong): the check returns it as its error and the wait ends there.
type settled struct{ found string }

func (s settled) Error() string { return s.found }

// settledFound tells whether err is a settled verdict, and its found text.
func settledFound(err error) (string, bool) {
	var s settled
	if errors.As(err, &s) {
		return s.found, true
	}
	return "", false
}

// evaluateState judges a state check and, when it passes, computes what it
// captures on the same state: a capture that cannot be computed (the
// objects lack the field) keeps the check from passing.
func evaluateState(c StateCheck, s *State, captured *map[string]string) (bool, string, error) {
	ok, found := c.Evaluate(s)
	*captured = nil
	x, exports := c.(Exporter)
	if !ok || !exports {
		return ok, found, nil
	}
	vals, err := x.Export(s)
	if err != nil {
		return false, err.Error(), nil
	}
	*captured = vals
	return true, found, nil
}

func sameVerdicts(a, b []Result) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].Passed != b[i].Passed || a[i].Found != b[i].Found {
			return false
		}
	}
	return true
}

// Bound is how long a run of specs may take: each state check's wait (the
// override, when positive) and each active check's own timeout.
func Bound(specs []Spec, override time.Duration) time.Duration {
	var d time.Duration
	for _, s := range specs {
		t := TimeoutOf(s)
		if c, err := Compile(s); err == nil && override > 0 {
			if _, active := c.(ActiveCheck); !active {
				t = override
			}
		}
		d = max(d, t)
	}
	return d
}

// stepWait is how long each state check of a step may wait: the step's
// longest wait (or the override, when positive). The step's verdict
// comes only when its slowest check settles, so a check that gave up
// sooner than its siblings would only fail a step they are still waiting
// on: two checks of one outcome (the first OOM kill, then the second)
// must not silently have different deadlines. An active check's timeout
// bounds its action, not a wait: it does not count.
func stepWait(specs []Spec, compiled []Check, override time.Duration) time.Duration {
	if override > 0 {
		return override
	}
	var d time.Duration
	for i, s := range specs {
		if _, active := compiled[i].(ActiveCheck); !active {
			d = max(d, TimeoutOf(s))
		}
	}
	if d == 0 {
		d = DefaultTimeout
	}
	return d
}

// syncDeadline bounds the first read of the cluster: no check may wait
// longer than the step's wait for a cluster that does not answer.
func (e *Engine) syncDeadline(specs []Spec, compiled []Check, opts Options) time.Duration {
	waits := false
	for i, c := range compiled {
		if _, active := c.(ActiveCheck); !active && !opts.Passed[i] {
			waits = true
		}
	}
	if !opts.Wait || !waits {
		return 10 * time.Second
	}
	// A slow first list (a cluster just resumed) is not a dead one.
	return max(stepWait(specs, compiled, opts.Timeout), 3*time.Second)
}

func (e *Engine) judge(ctx context.Context, w *watcher, i int, c Check, timeout time.Duration, opts Options) Result {
	start := time.Now()
	if ac, ok := c.(ActiveCheck); ok {
		// An active check measures once: its action is the time window.
		passed, found, err := ac.Measure(ctx, e.Prober)
		return Result{Expected: c.Expected(), Found: found, Passed: passed && err == nil, Err: err, Elapsed: time.Since(start)}
	}
	var evaluate func(*State) (bool, string, error)
	var again <-chan time.Time
	var captured map[string]string
	switch c := c.(type) {
	case StateCheck:
		evaluate = func(s *State) (bool, string, error) { return evaluateState(c, s, &captured) }
	case ProbeCheck:
		evaluate = func(s *State) (bool, string, error) { return c.Probe(ctx, s, e.Prober, opts.Baseline.captured(i)) }
		t := time.NewTicker(reprobe)
		defer t.Stop()
		again = t.C
	default:
		return Result{Expected: c.Expected(), Err: fmt.Errorf("check type cannot be evaluated")}
	}
	var deadline <-chan time.Time
	if opts.Wait {
		t := time.NewTimer(timeout)
		defer t.Stop()
		deadline = t.C
	}
	for {
		changed := w.changed()
		st := w.snapshot(e.Namespace, opts.Baseline)
		st.Answer = opts.Answer
		ok, found, err := evaluate(st)
		if f, ok := settledFound(err); ok {
			found, err = f, nil
			return Result{Expected: c.Expected(), Found: found, Elapsed: time.Since(start)}
		}
		r := Result{Expected: c.Expected(), Found: found, Passed: ok && err == nil, Err: err, Elapsed: time.Since(start), Captured: captured}
		if ok || err != nil || !opts.Wait {
			return r
		}
		select {
		case <-changed:
		case <-again:
		case <-deadline:
			r.Elapsed = time.Since(start)
			return r
		case <-ctx.Done():
			r.Err = ctx.Err()
			return r
		}
	}
}

// TakeBaseline records the namespace as a step starts: its pods, the
// events of every namespace the step's events checks read, the API
// server's time, and what the step's capturing checks compare with later.
func (e *Engine) TakeBaseline(ctx context.Context, specs []Spec) (*Baseline, error) {
	compiled, err := compile(specs)
	if err != nil {
		return nil, err
	}
	eventNamespaces := []string{e.Namespace}
	for _, c := range compiled {
		if ev, ok := c.(*events); ok && ev.p.Namespace != "" {
			eventNamespaces = append(eventNamespaces, ev.p.Namespace)
		}
	}
	b, err := TakeBaseline(ctx, e.Dynamic, e.Namespace, eventNamespaces...)
	if err != nil {
		return nil, err
	}
	b.Started = e.now(ctx).UTC().Truncate(time.Second)
	var capturers []int
	for i, c := range compiled {
		if _, ok := c.(Capturer); ok {
			capturers = append(capturers, i)
		}
	}
	if len(capturers) == 0 {
		return b, nil
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	w, err := e.watch(ctx, needs(compiled), 30*time.Second)
	if err != nil {
		return nil, err
	}
	defer w.shutdown()
	defer cancel()
	st := w.snapshot(e.Namespace, b)
	b.Captured = map[int]string{}
	for _, i := range capturers {
		v, err := compiled[i].(Capturer).Capture(ctx, st, e.Prober)
		if err != nil {
			return nil, fmt.Errorf("recording check %d's value at the step's start: %w", i+1, err)
		}
		b.Captured[i] = v
	}
	return b, nil
}

// watcher keeps informer caches of what the checks need and wakes every
// waiting check on each change.
type watcher struct {
	factories []dynamicinformer.DynamicSharedInformerFactory
	listers   map[Resource]func() []*unstructured.Unstructured

	mu   sync.Mutex
	wake chan struct{}
}

// watch starts an informer for each resource needed (one per kind and
// namespace) and waits, at most syncWithin, for their first lists.
func (e *Engine) watch(ctx context.Context, need []Resource, syncWithin time.Duration) (*watcher, error) {
	w := &watcher{listers: map[Resource]func() []*unstructured.Unstructured{}, wake: make(chan struct{})}
	byNamespace := map[string]dynamicinformer.DynamicSharedInformerFactory{}
	handled := map[string]bool{}
	syncCtx, cancel := context.WithTimeout(ctx, syncWithin)
	defer cancel()
	var refusedMu sync.Mutex
	var refused error
	h := cache.ResourceEventHandlerFuncs{
		AddFunc:    func(any) { w.broadcast() },
		UpdateFunc: func(any, any) { w.broadcast() },
		DeleteFunc: func(any) { w.broadcast() },
	}
	for _, r := range need {
		res, err := resolve(e.Mapper, r)
		if err != nil {
			return nil, err
		}
		ns := "" // cluster-scoped, or every namespace
		if res.namespaced && r.Namespace != AllNamespaces {
			ns = r.Namespace
			if ns == "" {
				ns = e.Namespace
			}
		}
		f, ok := byNamespace[ns]
		if !ok {
			f = dynamicinformer.NewFilteredDynamicSharedInformerFactory(e.Dynamic, 0, ns, nil)
			byNamespace[ns] = f
			w.factories = append(w.factories, f)
		}
		inf := f.ForResource(res.gvr)
		if key := ns + "/" + res.gvr.String(); !handled[key] {
			handled[key] = true
			if err := inf.Informer().SetTransform(DropManagedFields); err != nil {
				return nil, fmt.Errorf("watching %s: %w", r, err)
			}
			if _, err := inf.Informer().AddEventHandler(h); err != nil {
				return nil, fmt.Errorf("watching %s: %w", r, err)
			}
			// An informer refused by RBAC retries forever and never syncs:
			// the first 403 ends the wait with what was refused.
			where := "in namespace " + ns
			if ns == "" {
				where = "across the cluster"
			}
			what := gvrName(res.gvr)
			err := inf.Informer().SetWatchErrorHandlerWithContext(func(hctx context.Context, rf *cache.Reflector, err error) {
				if apierrors.IsForbidden(err) {
					refusedMu.Lock()
					if refused == nil {
						refused = fmt.Errorf("%w %s %s: the API server answered 403 Forbidden", ErrForbidden, what, where)
						var st apierrors.APIStatus
						if errors.As(err, &st) {
							refused = fmt.Errorf("%w %s %s (403 Forbidden: %s)", ErrForbidden, what, where, st.Status().Message)
						}
					}
					refusedMu.Unlock()
					cancel()
					return
				}
				cache.DefaultWatchErrorHandler(hctx, rf, err)
			})
			if err != nil {
				return nil, fmt.Errorf("watching %s: %w", r, err)
			}
		}
		lister := inf.Lister()
		w.listers[r] = func() []*unstructured.Unstructured {
			var objs []runtime.Object
			if ns == "" {
				objs, _ = lister.List(labels.Everything())
			} else {
				objs, _ = lister.ByNamespace(ns).List(labels.Everything())
			}
			out := make([]*unstructured.Unstructured, 0, len(objs))
			for _, o := range objs {
				if u, ok := o.(*unstructured.Unstructured); ok {
					out = append(out, u)
				}
			}
			return out
		}
	}
	for _, f := range w.factories {
		f.Start(ctx.Done())
	}
	for _, f := range w.factories {
		for gvr, ok := range f.WaitForCacheSync(syncCtx.Done()) {
			if !ok {
				if ctx.Err() != nil {
					return nil, ctx.Err()
				}
				refusedMu.Lock()
				err := refused
				refusedMu.Unlock()
				if err != nil {
					return nil, err // the caller's cancel stops the informers
				}
				return nil, fmt.Errorf("%w: reading the %s took over %s", ErrNotSynced, gvrName(gvr), syncWithin)
			}
		}
	}
	return w, nil
}

func gvrName(gvr schema.GroupVersionResource) string {
	if gvr.Group == "" {
		return gvr.Resource
	}
	return gvr.Resource + "." + gvr.Group
}

func (w *watcher) shutdown() {
	for _, f := range w.factories {
		f.Shutdown()
	}
}

func (w *watcher) broadcast() {
	w.mu.Lock()
	close(w.wake)
	w.wake = make(chan struct{})
	w.mu.Unlock()
}

// changed returns a channel closed at the next change after this call.
func (w *watcher) changed() <-chan struct{} {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.wake
}

func (w *watcher) snapshot(ns string, b *Baseline) *State {
	objs := make(map[Resource][]*unstructured.Unstructured, len(w.listers))
	for r, list := range w.listers {
		objs[r] = list()
	}
	return NewState(ns, b, objs)
}
