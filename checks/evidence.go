package checks

import (
	"context"
	"fmt"
	"sort"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

type (
	podT    = corev1.Pod
	deployT = appsv1.Deployment
)

// TakeBaseline records the namespace's pods as they are now.
func TakeBaseline(ctx context.Context, c kubernetes.Interface, ns string) (*Baseline, error) {
	list, err := c.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, fmt.Errorf("recording baseline of namespace %s: %w", ns, err)
	}
	pods := make([]*corev1.Pod, len(list.Items))
	for i := range list.Items {
		pods[i] = &list.Items[i]
	}
	return NewBaseline(pods), nil
}

// Evidence is what a teacher looks at when a check fails.
type Evidence struct {
	Events []string // recent Warning events, newest last
	Pods   []string // the concerned pods' states
}

// CollectEvidence gathers the namespace's recent Warning events and the state
// of the pods matching the failing checks' selectors (all pods when none).
func CollectEvidence(ctx context.Context, c kubernetes.Interface, ns string, selectors []string, maxEvents int) (Evidence, error) {
	var ev Evidence
	events, err := c.CoreV1().Events(ns).List(ctx, metav1.ListOptions{FieldSelector: "type=Warning"})
	if err != nil {
		return ev, fmt.Errorf("listing events in %s: %w", ns, err)
	}
	items := events.Items
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
	list, err := c.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{})
	if err != nil {
		return ev, fmt.Errorf("listing pods in %s: %w", ns, err)
	}
	pods := make([]*corev1.Pod, len(list.Items))
	for i := range list.Items {
		pods[i] = &list.Items[i]
	}
	st := &State{Namespace: ns, Pods: pods}
	seen := map[string]bool{}
	var concerned []*corev1.Pod
	if len(selectors) == 0 {
		selectors = []string{""}
	}
	for _, sel := range selectors {
		for _, p := range st.PodsMatching(sel) {
			if !seen[p.Name] {
				seen[p.Name] = true
				concerned = append(concerned, p)
			}
		}
	}
	for _, p := range concerned {
		ev.Pods = append(ev.Pods, describePod(p))
	}
	return ev, nil
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
