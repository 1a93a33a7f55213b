package checks

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/dynamic/dynamicinformer"
	"k8s.io/client-go/tools/cache"
)

// ErrNotJudged marks a check the Judge does not run: it acts on the
// cluster or reads what only the learner's machine has (an HTTP request,
// an exec, a node, an answer). Its verdict is the learner's report.
var ErrNotJudged = errors.New("judged on the learner's machine only")

// Judge evaluates the state checks of many namespaces' steps on one set of
// informers, one per kind across the cluster: an instructor's view of a
// class re-judges every learner's current step without an engine (and its
// watches) per learner. Informers start when a step first needs a kind.
type Judge struct {
	dyn    dynamic.Interface
	mapper meta.RESTMapper
	ctx    context.Context

	mu       sync.Mutex
	factory  dynamicinformer.DynamicSharedInformerFactory
	listers  map[schema.GroupVersionResource]cache.GenericLister
	compiled map[string][]Check // by the specs' JSON
	wake     chan struct{}
	dirty    map[string]bool // namespaces changed since the last Dirty
}

// NewJudge is a judge whose informers run until ctx ends.
func NewJudge(ctx context.Context, dyn dynamic.Interface, mapper meta.RESTMapper) *Judge {
	return &Judge{
		dyn: dyn, mapper: mapper, ctx: ctx,
		factory:  dynamicinformer.NewDynamicSharedInformerFactory(dyn, 0),
		listers:  map[schema.GroupVersionResource]cache.GenericLister{},
		compiled: map[string][]Check{},
		wake:     make(chan struct{}),
		dirty:    map[string]bool{},
	}
}

// Changed returns a channel closed at the next change of any watched kind.
func (j *Judge) Changed() <-chan struct{} {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.wake
}

// Dirty returns the namespaces where something changed since the last call
// ("" for a cluster-scoped object), and forgets them.
func (j *Judge) Dirty() map[string]bool {
	j.mu.Lock()
	defer j.mu.Unlock()
	d := j.dirty
	j.dirty = map[string]bool{}
	return d
}

func (j *Judge) changed(obj any) {
	ns := ""
	if o, ok := obj.(metaNamespaced); ok {
		ns = o.GetNamespace()
	} else if t, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		if o, ok := t.Obj.(metaNamespaced); ok {
			ns = o.GetNamespace()
		}
	}
	j.mu.Lock()
	j.dirty[ns] = true
	close(j.wake)
	j.wake = make(chan struct{})
	j.mu.Unlock()
}

type metaNamespaced interface{ GetNamespace() string }

// maxCompiled bounds the judge's cache of compiled steps.
const maxCompiled = 2000

// Evaluate judges specs in namespace ns as they stand now: each state
// check's verdict; the others carry ErrNotJudged. The first use of a kind
// waits (at most syncWithin) for its informer's first list.
func (j *Judge) Evaluate(ctx context.Context, ns string, specs []Spec, b *Baseline, answer string, syncWithin time.Duration) ([]Result, error) {
	compiled, err := j.compile(specs)
	if err != nil {
		return nil, err
	}
	objs := map[Resource][]*unstructured.Unstructured{}
	for _, r := range needs(compiled) {
		res, err := resolve(j.mapper, r)
		if err != nil {
			return nil, err
		}
		lister, err := j.lister(ctx, res.gvr, syncWithin)
		if err != nil {
			return nil, err
		}
		var list []runtime.Object
		switch {
		case !res.namespaced || r.Namespace == AllNamespaces:
			list, _ = lister.List(labels.Everything())
		case r.Namespace != "":
			list, _ = lister.ByNamespace(r.Namespace).List(labels.Everything())
		default:
			list, _ = lister.ByNamespace(ns).List(labels.Everything())
		}
		out := make([]*unstructured.Unstructured, 0, len(list))
		for _, o := range list {
			if u, ok := o.(*unstructured.Unstructured); ok {
				out = append(out, u)
			}
		}
		objs[r] = out
	}
	st := NewState(ns, b, objs)
	st.Answer = answer
	results := make([]Result, len(compiled))
	for i, c := range compiled {
		results[i] = Result{Index: i, Expected: expectedOf(specs[i], c)}
		sc, ok := c.(StateCheck)
		if !ok || isAnswerCheck(c) {
			results[i].Err = ErrNotJudged
			continue
		}
		results[i].Passed, results[i].Found, _ = evaluateState(sc, st, &results[i].Captured)
	}
	return results, nil
}

// isAnswerCheck: an answer is what the learner typed, kept by their own
// labs; the judge cannot know it.
func isAnswerCheck(c Check) bool {
	_, ok := c.(*answerCheck)
	return ok
}

func (j *Judge) compile(specs []Spec) ([]Check, error) {
	key, err := json.Marshal(specs)
	if err != nil {
		return nil, err
	}
	j.mu.Lock()
	c, ok := j.compiled[string(key)]
	j.mu.Unlock()
	if ok {
		return c, nil
	}
	if c, err = compile(specs); err != nil {
		return nil, err
	}
	j.mu.Lock()
	if len(j.compiled) >= maxCompiled { // distinct captured values: bounded
		clear(j.compiled)
	}
	j.compiled[string(key)] = c
	j.mu.Unlock()
	return c, nil
}

// lister starts the informer of gvr across the cluster, once, and waits
// for its first list.
func (j *Judge) lister(ctx context.Context, gvr schema.GroupVersionResource, syncWithin time.Duration) (cache.GenericLister, error) {
	j.mu.Lock()
	gi := j.factory.ForResource(gvr) // the same informer every time
	l, ok := j.listers[gvr]
	if !ok {
		if err := gi.Informer().SetTransform(DropManagedFields); err != nil {
			j.mu.Unlock()
			return nil, err
		}
		h := cache.ResourceEventHandlerFuncs{
			AddFunc:    j.changed,
			UpdateFunc: func(_, o any) { j.changed(o) },
			DeleteFunc: j.changed,
		}
		if _, err := gi.Informer().AddEventHandler(h); err != nil {
			j.mu.Unlock()
			return nil, err
		}
		l = gi.Lister()
		j.listers[gvr] = l
		j.factory.Start(j.ctx.Done())
	}
	j.mu.Unlock()
	if gi.Informer().HasSynced() {
		return l, nil
	}
	sctx, cancel := context.WithTimeout(ctx, syncWithin)
	defer cancel()
	if !cache.WaitForCacheSync(sctx.Done(), gi.Informer().HasSynced) {
		return nil, fmt.Errorf("%w: reading the %s took over %s", ErrNotSynced, gvrName(gvr), syncWithin)
	}
	return l, nil
}
