package checks

import (
	"sort"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
)

// State is what a check sees: the objects of the kinds the step's checks
// need, at one moment, and the baseline recorded when the step started.
type State struct {
	Namespace string
	Baseline  *Baseline
	// Answer is the learner's answer in this step ("" if none yet).
	Answer  string
	objects map[Resource][]*unstructured.Unstructured

	// typed views, converted on first use
	pods []*corev1.Pod
	deps []*appsv1.Deployment
}

// NewState is a state made of the given objects, by the Resource that
// selected them.
func NewState(ns string, b *Baseline, objects map[Resource][]*unstructured.Unstructured) *State {
	return &State{Namespace: ns, Baseline: b, objects: objects}
}

// Objects are the objects of r (empty when no check of the step needs r).
func (s *State) Objects(r Resource) []*unstructured.Unstructured { return s.objects[r] }

// Pods are the lab namespace's pods, sorted by name.
func (s *State) Pods() []*corev1.Pod {
	if s.pods == nil {
		s.pods = asTyped[corev1.Pod](s.Objects(podResource()))
	}
	return s.pods
}

// Deployments are the lab namespace's Deployments, sorted by name.
func (s *State) Deployments() []*appsv1.Deployment {
	if s.deps == nil {
		s.deps = asTyped[appsv1.Deployment](s.Objects(deploymentResource()))
	}
	return s.deps
}

// asTyped converts objects to their Go type; one that does not convert (a
// newer field the library does not know) is left out.
func asTyped[T any](objs []*unstructured.Unstructured) []*T {
	out := make([]*T, 0, len(objs))
	for _, o := range objs {
		var t T
		if runtime.DefaultUnstructuredConverter.FromUnstructured(o.Object, &t) == nil {
			out = append(out, &t)
		}
	}
	return out
}

// PodsMatching returns the live (not terminating, not finished) pods whose
// labels match selector, sorted by name.
func (s *State) PodsMatching(selector string) []*corev1.Pod {
	var out []*corev1.Pod
	for _, p := range s.PodsWith(selector) {
		if p.DeletionTimestamp == nil && p.Status.Phase != corev1.PodSucceeded && p.Status.Phase != corev1.PodFailed {
			out = append(out, p)
		}
	}
	return out
}

// PodsWith returns every pod whose labels match selector, finished or
// being deleted too, sorted by name.
func (s *State) PodsWith(selector string) []*corev1.Pod {
	sel, err := labels.Parse(selector)
	if err != nil {
		return nil
	}
	var out []*corev1.Pod
	for _, p := range s.Pods() {
		if sel.Matches(labels.Set(p.Labels)) {
			out = append(out, p)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// podContainer is one container status of a pod.
type podContainer struct {
	pod    *corev1.Pod
	status corev1.ContainerStatus
}

// containersOf returns the statuses of the containers called name (every
// container when name is "") of pods.
func containersOf(pods []*corev1.Pod, name string) []podContainer {
	var out []podContainer
	for _, p := range pods {
		for _, cs := range p.Status.ContainerStatuses {
			if name == "" || cs.Name == name {
				out = append(out, podContainer{pod: p, status: cs})
			}
		}
	}
	return out
}

// Deployment returns the named Deployment, or nil.
func (s *State) Deployment(name string) *appsv1.Deployment {
	for _, d := range s.Deployments() {
		if d.Name == name {
			return d
		}
	}
	return nil
}

// Baseline is what the namespace looked like when a step started, so a check
// can prove that something changed: a pod replaced, a container restarted,
// an event that is new.
type Baseline struct {
	Pods map[string]PodRecord `json:"pods"` // by pod UID
	// Events counts the namespace's events by UID: an event is new to the
	// step when its UID is not here or its count grew (no clocks compared:
	// a laptop VM's clock may lag).
	Events map[string]int32 `json:"events,omitempty"`
	// Captured holds, by check index in the step, what capturing checks
	// recorded when the step started.
	Captured map[int]string `json:"captured,omitempty"`
	// Started is when the step began by the API server's clock (whole
	// seconds, as it writes object and event times): CEL's step.started,
	// and where a `logs` check's "since the step began" starts.
	Started time.Time `json:"started,omitzero"`
}

// captured is what check i recorded at the step's start ("" if nothing).
func (b *Baseline) captured(i int) string {
	if b == nil {
		return ""
	}
	return b.Captured[i]
}

// PodRecord is one pod at baseline time.
type PodRecord struct {
	Name     string            `json:"name"`
	Labels   map[string]string `json:"labels,omitempty"`
	Restarts map[string]int32  `json:"restarts,omitempty"` // by container name
	Node     string            `json:"node,omitempty"`     // where it ran
}

// NewBaseline records pods and events as they are now.
func NewBaseline(pods []*corev1.Pod, events []*corev1.Event) *Baseline {
	b := &Baseline{Pods: map[string]PodRecord{}, Events: map[string]int32{}}
	for _, p := range pods {
		r := PodRecord{Name: p.Name, Labels: p.Labels, Restarts: map[string]int32{}, Node: p.Spec.NodeName}
		for _, cs := range p.Status.ContainerStatuses {
			r.Restarts[cs.Name] = cs.RestartCount
		}
		b.Pods[string(p.UID)] = r
	}
	for _, e := range events {
		b.Events[string(e.UID)] = max(e.Count, 1)
	}
	return b
}

// pod is the baseline's record of the pod with this UID.
func (b *Baseline) pod(uid string) (PodRecord, bool) {
	if b == nil {
		return PodRecord{}, false
	}
	r, ok := b.Pods[uid]
	return r, ok
}

// matching returns the baseline pods whose labels match selector.
func (b *Baseline) matching(selector string) map[string]PodRecord {
	out := map[string]PodRecord{}
	if b == nil {
		return out
	}
	sel, err := labels.Parse(selector)
	if err != nil {
		return out
	}
	for uid, r := range b.Pods {
		if sel.Matches(labels.Set(r.Labels)) {
			out[uid] = r
		}
	}
	return out
}
