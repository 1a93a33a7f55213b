package checks

import (
	"sort"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"
)

// State is what a check sees: the lab namespace's objects at one moment, and
// the baseline recorded when the step started.
type State struct {
	Namespace   string
	Pods        []*corev1.Pod
	Deployments []*appsv1.Deployment
	Baseline    *Baseline
}

// PodsMatching returns the live (not terminating, not finished) pods whose
// labels match selector, sorted by name.
func (s *State) PodsMatching(selector string) []*corev1.Pod {
	sel, err := labels.Parse(selector)
	if err != nil {
		return nil
	}
	var out []*corev1.Pod
	for _, p := range s.Pods {
		if p.DeletionTimestamp != nil || p.Status.Phase == corev1.PodSucceeded || p.Status.Phase == corev1.PodFailed {
			continue
		}
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
	for _, d := range s.Deployments {
		if d.Name == name {
			return d
		}
	}
	return nil
}

// Baseline is what the namespace looked like when a step started, so a check
// can prove that something changed: a pod replaced, a container restarted.
type Baseline struct {
	Pods map[string]PodRecord `json:"pods"` // by pod UID
}

// PodRecord is one pod at baseline time.
type PodRecord struct {
	Name     string            `json:"name"`
	Labels   map[string]string `json:"labels,omitempty"`
	Restarts map[string]int32  `json:"restarts,omitempty"` // by container name
}

// NewBaseline records pods as they are now.
func NewBaseline(pods []*corev1.Pod) *Baseline {
	b := &Baseline{Pods: map[string]PodRecord{}}
	for _, p := range pods {
		r := PodRecord{Name: p.Name, Labels: p.Labels, Restarts: map[string]int32{}}
		for _, cs := range p.Status.ContainerStatuses {
			r.Restarts[cs.Name] = cs.RestartCount
		}
		b.Pods[string(p.UID)] = r
	}
	return b
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
