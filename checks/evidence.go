package checks

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// TakeBaseline records the namespace's pods as they are now.
func TakeBaseline(ctx context.Context, c kubernetes.Interface, ns string) (*Baseline, error) {
	pods, err := listPods(ctx, c, ns)
	if err != nil {
		return nil, fmt.Errorf("recording baseline of namespace %s: %w", ns, err)
	}
	return NewBaseline(pods), nil
}

func listPods(ctx context.Context, c kubernetes.Interface, ns string) ([]*corev1.Pod, error) {
	list, err := c.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, err
	}
	pods := make([]*corev1.Pod, len(list.Items))
	for i := range list.Items {
		pods[i] = &list.Items[i]
	}
	return pods, nil
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
func CollectEvidence(ctx context.Context, c kubernetes.Interface, ns string, concerns []Concern, maxEvents int) (Evidence, error) {
	var ev Evidence
	pods, err := listPods(ctx, c, ns)
	if err != nil {
		return ev, fmt.Errorf("listing pods in %s: %w", ns, err)
	}
	st := &State{Namespace: ns, Pods: pods}
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
		d, err := c.AppsV1().Deployments(ns).Get(ctx, cn.Deployment, metav1.GetOptions{})
		if err == nil && d.Spec.Selector != nil {
			selectors = append(selectors, metav1.FormatLabelSelector(d.Spec.Selector))
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
	events, err := c.CoreV1().Events(ns).List(ctx, metav1.ListOptions{FieldSelector: "type=Warning"})
	if err != nil {
		return ev, fmt.Errorf("listing events in %s: %w", ns, err)
	}
	var items []corev1.Event
	for _, e := range events.Items {
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

func eventTime(e corev1.Event) time.Time {
	switch {
	case !e.LastTimestamp.IsZero():
		return e.LastTimestamp.Time
	case !e.EventTime.IsZero():
		return e.EventTime.Time
	}
	return e.CreationTimestamp.Time
}
