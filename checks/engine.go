package checks

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"sync"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"

	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
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
}

// ErrNotSynced means the engine could not read the cluster's state in time:
// the API server does not answer.
var ErrNotSynced = errors.New("the API server did not answer in time")

// Engine evaluates checks against one namespace of a live cluster.
type Engine struct {
	Client    kubernetes.Interface
	Namespace string
	// Prober runs active checks; nil fails them with an error.
	Prober Prober
}

// Run judges the specs concurrently: each check passes the moment an informer
// event produces a state in which it holds, or fails at its own timeout.
func (e *Engine) Run(ctx context.Context, specs []Spec, opts Options) ([]Result, error) {
	compiled := make([]Check, len(specs))
	for i, s := range specs {
		c, err := Compile(s)
		if err != nil {
			return nil, fmt.Errorf("check %d: %w", i+1, err)
		}
		compiled[i] = c
	}

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	w, err := e.watch(ctx, e.syncDeadline(specs, compiled, opts))
	if err != nil {
		return nil, err
	}
	defer w.factory.Shutdown()
	defer cancel() // Shutdown waits for informers, which stop on ctx.

	results := make([]Result, len(specs))
	var wg sync.WaitGroup
	var mu sync.Mutex
	for i, c := range compiled {
		if opts.Passed[i] {
			results[i] = Result{Index: i, Expected: c.Expected(), Found: "passed earlier in this step", Passed: true}
			continue
		}
		wg.Add(1)
		go func(i int, c Check, timeout time.Duration) {
			defer wg.Done()
			r := e.judge(ctx, w, c, timeout, opts)
			r.Index = i
			results[i] = r
			if opts.OnResult != nil {
				mu.Lock()
				opts.OnResult(r)
				mu.Unlock()
			}
		}(i, c, e.waitTimeout(specs[i], opts))
	}
	wg.Wait()
	return results, nil
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

func (e *Engine) waitTimeout(s Spec, opts Options) time.Duration {
	if opts.Timeout > 0 {
		return opts.Timeout
	}
	return TimeoutOf(s)
}

// syncDeadline bounds the first read of the cluster: no check may wait
// longer than its own timeout for a cluster that does not answer.
func (e *Engine) syncDeadline(specs []Spec, compiled []Check, opts Options) time.Duration {
	d := 10 * time.Second
	if !opts.Wait {
		return d
	}
	d = 0
	for i, c := range compiled {
		if _, active := c.(ActiveCheck); active || opts.Passed[i] {
			continue
		}
		d = max(d, e.waitTimeout(specs[i], opts))
	}
	if d == 0 {
		d = 10 * time.Second
	}
	// A slow first list (a cluster just resumed) is not a dead one.
	return max(d, 3*time.Second)
}

func (e *Engine) judge(ctx context.Context, w *watcher, c Check, timeout time.Duration, opts Options) Result {
	start := time.Now()
	if ac, ok := c.(ActiveCheck); ok {
		// An active check measures once: its action is the time window.
		passed, found, err := ac.Measure(ctx, e.Prober)
		return Result{Expected: c.Expected(), Found: found, Passed: passed && err == nil, Err: err, Elapsed: time.Since(start)}
	}
	sc, ok := c.(StateCheck)
	if !ok {
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
		ok, found := sc.Evaluate(w.snapshot(e.Namespace, opts.Baseline))
		r := Result{Expected: c.Expected(), Found: found, Passed: ok, Elapsed: time.Since(start)}
		if ok || !opts.Wait {
			return r
		}
		select {
		case <-changed:
		case <-deadline:
			r.Elapsed = time.Since(start)
			return r
		case <-ctx.Done():
			r.Err = ctx.Err()
			return r
		}
	}
}

// watcher keeps informer caches of the namespace and wakes every waiting
// check on each change.
type watcher struct {
	factory informers.SharedInformerFactory
	pods    func() ([]*corev1.Pod, error)
	deps    func() ([]*appsv1.Deployment, error)

	mu   sync.Mutex
	wake chan struct{}
}

func (e *Engine) watch(ctx context.Context, syncWithin time.Duration) (*watcher, error) {
	f := informers.NewSharedInformerFactoryWithOptions(e.Client, 0, informers.WithNamespace(e.Namespace))
	w := &watcher{factory: f, wake: make(chan struct{})}
	pods := f.Core().V1().Pods()
	deps := f.Apps().V1().Deployments()
	h := cache.ResourceEventHandlerFuncs{
		AddFunc:    func(any) { w.broadcast() },
		UpdateFunc: func(any, any) { w.broadcast() },
		DeleteFunc: func(any) { w.broadcast() },
	}
	for _, inf := range []cache.SharedIndexInformer{pods.Informer(), deps.Informer()} {
		if _, err := inf.AddEventHandler(h); err != nil {
			return nil, fmt.Errorf("watching namespace %s: %w", e.Namespace, err)
		}
	}
	w.pods = func() ([]*corev1.Pod, error) { return pods.Lister().Pods(e.Namespace).List(labels.Everything()) }
	w.deps = func() ([]*appsv1.Deployment, error) {
		return deps.Lister().Deployments(e.Namespace).List(labels.Everything())
	}
	f.Start(ctx.Done())
	syncCtx, cancel := context.WithTimeout(ctx, syncWithin)
	defer cancel()
	for typ, ok := range f.WaitForCacheSync(syncCtx.Done()) {
		if !ok {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			return nil, fmt.Errorf("%w: reading the %ss of namespace %s took over %s", ErrNotSynced, kindOf(typ), e.Namespace, syncWithin)
		}
	}
	return w, nil
}

// kindOf names an informer's object type as a learner knows it (Pod).
func kindOf(t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return t.Name()
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
	pods, _ := w.pods()
	deps, _ := w.deps()
	return &State{Namespace: ns, Pods: pods, Deployments: deps, Baseline: b}
}
