package checks

import (
	"context"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/api/meta/testrestmapper"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	dynamicfake "k8s.io/client-go/dynamic/fake"
	"k8s.io/client-go/kubernetes/scheme"
)

func qos(name string, class corev1.PodQOSClass) *corev1.Pod {
	return pod(name, name, 0, func(p *corev1.Pod) { p.Status.QOSClass = class })
}

func node(name string, unschedulable bool) *corev1.Node {
	return &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: corev1.NodeSpec{Unschedulable: unschedulable}}
}

func job(name string) *batchv1.Job {
	return &batchv1.Job{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, Labels: map[string]string{"cronjob": "tick"}}}
}

// Each form of the object check fails on the wrong state, saying the first
// path that differs, and passes on the right one.
func TestObjectCheck(t *testing.T) {
	tests := []struct {
		name      string
		spec      string
		wrong     []runtime.Object
		wrongSays string
		right     []runtime.Object
	}{
		{
			name:      "match a field",
			spec:      "{type: object, kind: Pod, name: qos-demo, match: {status: {qosClass: Guaranteed}}}",
			wrong:     []runtime.Object{qos("qos-demo", corev1.PodQOSBurstable)},
			wrongSays: ".status.qosClass is Burstable, not Guaranteed (Pod qos-demo)",
			right:     []runtime.Object{qos("qos-demo", corev1.PodQOSGuaranteed)},
		},
		{
			name:      "named object missing",
			spec:      "{type: object, kind: Pod, name: qos-demo, match: {status: {qosClass: Guaranteed}}}",
			wrongSays: "no Pod qos-demo",
			right:     []runtime.Object{qos("qos-demo", corev1.PodQOSGuaranteed)},
		},
		{
			name:      "cluster-scoped kind",
			spec:      "{type: object, kind: Node, name: labs-worker, match: {spec: {unschedulable: true}}}",
			wrong:     []runtime.Object{node("labs-worker", false)},
			wrongSays: ".spec.unschedulable is absent, not true (Node labs-worker)",
			right:     []runtime.Object{node("labs-worker", true)},
		},
		{
			name: "lists element by element",
			spec: "{type: object, kind: Deployment, name: web, match: {spec: {template: {spec: {containers: [{image: 'labapp:v2'}]}}}}}",
			wrong: []runtime.Object{deployment("web", 1, 1, func(d *appsv1.Deployment) {
				d.Spec.Template.Spec.Containers = []corev1.Container{{Name: "web", Image: "labapp:v1"}}
			})},
			wrongSays: ".spec.template.spec.containers[0].image is labapp:v1, not labapp:v2",
			right: []runtime.Object{deployment("web", 1, 1, func(d *appsv1.Deployment) {
				d.Spec.Template.Spec.Containers = []corev1.Container{{Name: "web", Image: "labapp:v2"}}
			})},
		},
		{
			name:      "count by selector",
			spec:      "{type: object, kind: Job, selector: cronjob=tick, count: 2}",
			wrong:     []runtime.Object{job("tick-1"), job("tick-2"), job("tick-3")},
			wrongSays: "3 of 3 selected satisfy it",
			right:     []runtime.Object{job("tick-2"), job("tick-3")},
		},
		{
			name:      "expression over the list",
			spec:      "{type: object, kind: Job, selector: cronjob=tick, expr: 'size(objects) <= 2'}",
			wrong:     []runtime.Object{job("tick-1"), job("tick-2"), job("tick-3")},
			wrongSays: "`size(objects) <= 2` is false over 3 Jobs",
			right:     []runtime.Object{job("tick-2"), job("tick-3")},
		},
		{
			name:      "expression on each object",
			spec:      "{type: object, kind: Pod, selector: app=web, expr: 'object.status.containerStatuses[0].restartCount > 0'}",
			wrong:     []runtime.Object{pod("web-a", "a", 1), pod("web-b", "b", 0)},
			wrongSays: "`object.status.containerStatuses[0].restartCount > 0` is false (Pod web-b)",
			right:     []runtime.Object{pod("web-a", "a", 1), pod("web-b", "b", 2)},
		},
		{
			name:      "expression with the baseline",
			spec:      "{type: object, kind: Pod, selector: app=web, expr: '!baseline.pods.exists(b, b.uid == object.metadata.uid)'}",
			wrong:     []runtime.Object{pod("web-a", "a", 0)},
			wrongSays: "is false (Pod web-a)",
			right:     []runtime.Object{pod("web-x", "x", 0)},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := mustSpec(t, tc.spec)
			b := NewBaseline([]*corev1.Pod{pod("web-a", "a", 0)}, nil)
			wrong := runOnce(t, s, b, tc.wrong...)
			if wrong.Passed || !strings.Contains(wrong.Found, tc.wrongSays) {
				t.Errorf("wrong state: passed=%v, found %q; want it to fail saying %q", wrong.Passed, wrong.Found, tc.wrongSays)
			}
			if right := runOnce(t, s, b, tc.right...); !right.Passed {
				t.Errorf("right state failed: %s", right.Sentence())
			}
		})
	}
}

// A custom resource is found through discovery like a built-in kind.
func TestObjectCheckOnACustomResource(t *testing.T) {
	gvk := schema.GroupVersionKind{Group: "training.example.com", Version: "v1", Kind: "Exercise"}
	gvr := schema.GroupVersionResource{Group: "training.example.com", Version: "v1", Resource: "exercises"}
	crMapper := meta.NewDefaultRESTMapper([]schema.GroupVersion{gvk.GroupVersion()})
	crMapper.Add(gvk, meta.RESTScopeNamespace)
	cr := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "training.example.com/v1", "kind": "Exercise",
		"metadata": map[string]any{"name": "first", "namespace": ns},
		"status":   map[string]any{"solved": false},
	}}
	dyn := dynamicfake.NewSimpleDynamicClientWithCustomListKinds(fakeScheme(), map[schema.GroupVersionResource]string{gvr: "ExerciseList"}, cr)
	e := &Engine{Dynamic: dyn, Mapper: meta.MultiRESTMapper{crMapper, testrestmapper.TestOnlyStaticRESTMapper(scheme.Scheme)}, Namespace: ns}
	s := mustSpec(t, "{type: object, apiVersion: training.example.com/v1, kind: Exercise, name: first, match: {status: {solved: true}}}")
	res, err := e.Run(context.Background(), []Spec{s}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if res[0].Passed || !strings.Contains(res[0].Found, ".status.solved is false, not true (Exercise first)") {
		t.Errorf("custom resource: %s", res[0].Sentence())
	}
	// A kind the cluster does not serve: one sentence, not a stack.
	other := mustSpec(t, "{type: object, apiVersion: other.example.com/v1, kind: Lesson, name: x}")
	if _, err := e.Run(context.Background(), []Spec{other}, Options{}); err == nil || !strings.Contains(err.Error(), "the cluster serves no kind other.example.com/v1 Lesson") {
		t.Errorf("unserved kind: %v", err)
	}
}

// Mistakes an author can make are caught when the lab is read.
func TestObjectSpecErrors(t *testing.T) {
	for _, tc := range []struct{ name, src, want string }{
		{"unknown kind", "- {type: object, kind: Pdo, name: x}", `unknown kind "Pdo"`},
		{"unknown field in match", "- {type: object, kind: Pod, name: x, match: {status: {qosClas: Guaranteed}}}", `match is not a partial Pod: unknown field "qosClas"`},
		{"expr does not compile", "- {type: object, kind: Pod, name: x, expr: 'object.status.'}", "does not compile"},
		{"expr not a bool", "- {type: object, kind: Pod, name: x, expr: 'size(objects)'}", "gives int; it must give true or false"},
		{"name and selector", "- {type: object, kind: Pod, name: x, selector: app=web}", "not both"},
		{"nothing to check", "- {type: object, kind: Pod, selector: app=web}", "say what must hold"},
		{"negative count", "- {type: object, kind: Pod, selector: app=web, count: -1}", "must not be negative"},
		{"kind not in the group", "- {type: object, apiVersion: apps/v1, kind: Pod, name: x}", `unknown kind "Pod" in apps/v1`},
	} {
		if _, err := ParseSpecs([]byte(tc.src)); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: ParseSpecs = %v, want an error containing %q", tc.name, err, tc.want)
		}
	}
}

func event(uid, reason, kind, name string, count int32) *corev1.Event {
	return &corev1.Event{
		ObjectMeta:     metav1.ObjectMeta{Name: "e-" + uid, Namespace: ns, UID: types.UID(uid)},
		Type:           corev1.EventTypeWarning,
		Reason:         reason,
		Message:        "Job has reached the specified backoff limit",
		InvolvedObject: corev1.ObjectReference{Kind: kind, Name: name},
		Count:          count,
	}
}

// An event counts only when it is new to the step: a new UID, or a count
// that grew. An old event cannot pass the check.
func TestEventsCheck(t *testing.T) {
	s := mustSpec(t, "{type: events, reason: BackoffLimitExceeded, eventType: Warning, kind: Job, namePrefix: fail, message: 'backoff limit'}")
	base := NewBaseline(nil, []*corev1.Event{event("old", "BackoffLimitExceeded", "Job", "fail-1", 1), event("rep", "BackOff", "Pod", "web-a", 3)})
	for _, tc := range []struct {
		name  string
		objs  []runtime.Object
		pass  bool
		found string
	}{
		{"only an old event", []runtime.Object{event("old", "BackoffLimitExceeded", "Job", "fail-1", 1)}, false, "only events from before the step started"},
		{"another reason", []runtime.Object{event("x", "BackOff", "Pod", "web-a", 1)}, false, "no such event; the newest are BackOff Pod/web-a"},
		{"another object", []runtime.Object{event("y", "BackoffLimitExceeded", "Job", "other", 1)}, false, "no such event"},
		{"a new event", []runtime.Object{event("new", "BackoffLimitExceeded", "Job", "fail-2", 1)}, true, "Warning BackoffLimitExceeded Job/fail-2"},
		{"an old event that happened again", []runtime.Object{event("old", "BackoffLimitExceeded", "Job", "fail-1", 2)}, true, "Job/fail-1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := runOnce(t, s, base, tc.objs...)
			if r.Passed != tc.pass || !strings.Contains(r.Found, tc.found) {
				t.Errorf("passed=%v found %q; want passed=%v containing %q", r.Passed, r.Found, tc.pass, tc.found)
			}
		})
	}
	for _, bad := range []string{
		"- {type: events, reason: X, message: '('}",
		"- {type: events, reason: X, eventType: Error}",
		"- {type: events, eventType: Warning}",
	} {
		if _, err := ParseSpecs([]byte(bad)); err == nil {
			t.Errorf("ParseSpecs(%s): want an error", bad)
		}
	}
}

// A description replaces the generated sentence: a CEL expression is no
// sentence for a learner.
func TestDescriptionIsTheExpectation(t *testing.T) {
	s := mustSpec(t, "{type: object, kind: Job, selector: cronjob=tick, expr: 'size(objects) <= 2', description: at most two Jobs are kept}")
	r := runOnce(t, s, nil, job("tick-1"))
	if r.Expected != "at most two Jobs are kept" || !r.Passed || r.Found != "`size(objects) <= 2` holds over 1 Job" {
		t.Errorf("got %+v", r)
	}
}
