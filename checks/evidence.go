package checks

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
)

// Core kinds read outside informers: no discovery needed for them.
func podsGVR() schema.GroupVersionResource {
	return schema.GroupVersionResource{Version: "v1", Resource: "pods"}
}
func eventsGVR() schema.GroupVersionResource {
	return schema.GroupVersionResource{Version: "v1", Resource: "events"}
}
func deploymentsGVR() schema.GroupVersionResource {
	return schema.GroupVersionResource{Group: "apps", Version: "v1", Resource: "deployments"}
}

// list reads every object of gvr in ns, within 30 s (the dynamic client
// has no overall timeout of its own: it also watches).
func list(ctx context.Context, dyn dynamic.Interface, gvr schema.GroupVersionResource, ns string, opts metav1.ListOptions) ([]*unstructured.Unstructured, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	l, err := dyn.Resource(gvr).Namespace(ns).List(ctx, opts)
	if err != nil {
		return nil, err
	}
	out := make([]*unstructured.Unstructured, len(l.Items))
	for i := range l.Items {
		out[i] = &l.Items[i]
	}
	return out, nil
}

// TakeBaseline records the namespace's pods and the events of ns and of
// eventNamespaces (AllNamespaces: every one) as they are now: an old event
// must never pass an events check, wherever it is.
func TakeBaseline(ctx context.Context, dyn dynamic.Interface, ns string, eventNamespaces ...string) (*Baseline, error) {
	pods, err := list(ctx, dyn, podsGVR(), ns, metav1.ListOptions{})
	if err != nil {
		return nil, fmt.Errorf("recording baseline of namespace %s: %w", ns, err)
	}
	var events []*unstructured.Unstructured
	read := append([]string{ns}, eventNamespaces...)
	if slices.Contains(read, AllNamespaces) {
		read = []string{metav1.NamespaceAll} // one list holds them all
	}
	seen := map[string]bool{}
	for _, en := range read {
		if seen[en] {
			continue
		}
		seen[en] = true
		evs, err := list(ctx, dyn, eventsGVR(), en, metav1.ListOptions{})
		if err != nil {
			return nil, fmt.Errorf("recording the events of %s as the step begins: %w", orAll(en), err)
		}
		events = append(events, evs...)
	}
	return NewBaseline(asTyped[corev1.Pod](pods), asTyped[corev1.Event](events)), nil
}

// orAll names a namespace, "" being every one.
func orAll(ns string) string {
	if ns == metav1.NamespaceAll {
		return "every namespace"
	}
	return "namespace " + ns
}

// Evidence is what a teacher looks at when a check fails.
type Evidence struct {
	Events []string // recent Warning events, newest last
	Pods   []string // the concerned pods' states
}

// Concern names what a failing check is about, so evidence shows those
// objects and not the whole namespace.
type Concern struct {
	Selector   string // pods by label
	Deployment string // a Deployment, its ReplicaSets and pods
}

// ConcernOf is what a spec's evidence should cover (nothing in particular
// for a spec that does not compile).
func ConcernOf(s Spec) Concern {
	c, err := Compile(s)
	if err != nil {
		return Concern{}
	}
	return c.Concern()
}

// CollectEvidence gathers the state of the pods the failing checks concern
// and the recent Warning events about them or their Deployments (the whole
// namespace when concerns is empty).
func CollectEvidence(ctx context.Context, dyn dynamic.Interface, ns string, concerns []Concern, maxEvents int) (Evidence, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	var ev Evidence
	pods, err := list(ctx, dyn, podsGVR(), ns, metav1.ListOptions{})
	if err != nil {
		return ev, fmt.Errorf("listing pods in %s: %w", ns, err)
	}
	st := NewState(ns, nil, map[Resource][]*unstructured.Unstructured{podResource(): pods})
	all := len(concerns) == 0
	var selectors, owners []string
	for _, cn := range concerns {
		if cn.Selector != "" {
			selectors = append(selectors, cn.Selector)
		}
		if cn.Deployment == "" {
			continue
		}
		owners = append(owners, cn.Deployment)
		u, err := dyn.Resource(deploymentsGVR()).Namespace(ns).Get(ctx, cn.Deployment, metav1.GetOptions{})
		if err != nil {
			continue
		}
		if ds := asTyped[appsv1.Deployment]([]*unstructured.Unstructured{u}); len(ds) == 1 && ds[0].Spec.Selector != nil {
			selectors = append(selectors, metav1.FormatLabelSelector(ds[0].Spec.Selector))
		}
	}
	if all {
		selectors = []string{""}
	}
	about := map[string]bool{}
	for _, sel := range selectors {
		for _, p := range st.PodsMatching(sel) {
			if !about[p.Name] {
				about[p.Name] = true
				ev.Pods = append(ev.Pods, describePod(p))
			}
		}
	}
	raw, err := list(ctx, dyn, eventsGVR(), ns, metav1.ListOptions{FieldSelector: "type=Warning"})
	if err != nil {
		return ev, fmt.Errorf("listing events in %s: %w", ns, err)
	}
	var items []*corev1.Event
	for _, e := range asTyped[corev1.Event](raw) {
		if e.Type != corev1.EventTypeWarning {
			continue // a fake client does not filter by field
		}
		if all || about[e.InvolvedObject.Name] || ownedBy(e.InvolvedObject.Name, owners) {
			items = append(items, e)
		}
	}
	sort.Slice(items, func(i, j int) bool { return eventTime(items[i]).Before(eventTime(items[j])) })
	if len(items) > maxEvents {
		items = items[len(items)-maxEvents:]
	}
	for _, e := range items {
		count := ""
		if e.Count > 1 {
			count = fmt.Sprintf(" (x%d)", e.Count)
		}
		ev.Events = append(ev.Events, fmt.Sprintf("%s %s/%s: %s%s", e.Reason, e.InvolvedObject.Kind, e.InvolvedObject.Name, e.Message, count))
	}
	return ev, nil
}

// ownedBy: a Deployment's ReplicaSets and pods carry its name as a prefix.
func ownedBy(name string, deployments []string) bool {
	for _, d := range deployments {
		if name == d || strings.HasPrefix(name, d+"-") {
			return true
		}
	}
	return false
}

func describePod(p *corev1.Pod) string {
	var restarts int32
	last := ""
	ready := 0
	for _, cs := range p.Status.ContainerStatuses {
		restarts += cs.RestartCount
		if cs.Ready {
			ready++
		}
		if t := cs.LastTerminationState.Terminated; t != nil {
			last = fmt.Sprintf(", last terminated %s (exit %d)", t.Reason, t.ExitCode)
		}
	}
	node := p.Spec.NodeName
	if node == "" {
		node = "unscheduled"
	}
	return fmt.Sprintf("%s: %s, ready %d/%d, restarts %d, node %s%s", p.Name, PodPhase(p), ready, len(p.Spec.Containers), restarts, node, last)
}

func eventTime(e *corev1.Event) time.Time {
	switch {
	case !e.LastTimestamp.IsZero():
		return e.LastTimestamp.Time
	case !e.EventTime.IsZero():
		return e.EventTime.Time
	}
	return e.CreationTimestamp.Time
}
