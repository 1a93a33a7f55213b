package checks

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta/testrestmapper"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	dynamicfake "k8s.io/client-go/dynamic/fake"
	"k8s.io/client-go/kubernetes/scheme"
	k8stesting "k8s.io/client-go/testing"
)

const ns = "lab"

func ptr[T any](v T) *T { return &v }

// fakeEngine is an engine over a fake dynamic client holding objs, with a
// RESTMapper of the built-in kinds.
func fakeEngine(objs ...runtime.Object) *Engine {
	return &Engine{Dynamic: dynamicfake.NewSimpleDynamicClient(fakeScheme(), objs...), Mapper: testrestmapper.TestOnlyStaticRESTMapper(scheme.Scheme), Namespace: ns}
}

// fakeScheme is a private copy of client-go's scheme: fake dynamic clients
// register list kinds in the scheme they get, and client-go's is shared.
func fakeScheme() *runtime.Scheme {
	s := runtime.NewScheme()
	if err := scheme.AddToScheme(s); err != nil {
		panic(err)
	}
	return s
}

func toUnstructured(t *testing.T, o runtime.Object) *unstructured.Unstructured {
	t.Helper()
	m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(o)
	if err != nil {
		t.Fatal(err)
	}
	u := &unstructured.Unstructured{Object: m}
	gvks, _, err := scheme.Scheme.ObjectKinds(o)
	if err != nil {
		t.Fatal(err)
	}
	u.SetGroupVersionKind(gvks[0])
	return u
}

// stateOf is a state holding objs under the resources the built-in types
// read.
func stateOf(t *testing.T, objs ...runtime.Object) *State {
	t.Helper()
	m := map[Resource][]*unstructured.Unstructured{}
	for _, o := range objs {
		u := toUnstructured(t, o)
		r := Resource{APIVersion: u.GetAPIVersion(), Kind: u.GetKind()}
		m[r] = append(m[r], u)
	}
	return NewState(ns, nil, m)
}

// mustSpec parses one check written as in a lab's check block.
func mustSpec(t *testing.T, src string) Spec {
	t.Helper()
	specs, err := ParseSpecs([]byte("- " + src))
	if err != nil {
		t.Fatalf("ParseSpecs(%s): %v", src, err)
	}
	return specs[0]
}

func deployment(name string, desired, available int32, mutate ...func(*appsv1.Deployment)) *appsv1.Deployment {
	d := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, Generation: 1},
		Spec:       appsv1.DeploymentSpec{Replicas: ptr(desired)},
		Status:     appsv1.DeploymentStatus{ObservedGeneration: 1, AvailableReplicas: available, ReadyReplicas: available, UpdatedReplicas: available},
	}
	for _, m := range mutate {
		m(d)
	}
	return d
}

func pod(name, uid string, restarts int32, mutate ...func(*corev1.Pod)) *corev1.Pod {
	p := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, UID: types.UID(uid), Labels: map[string]string{"app": "web"}},
		Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "web"}}},
		Status: corev1.PodStatus{
			Phase:             corev1.PodRunning,
			ContainerStatuses: []corev1.ContainerStatus{{Name: "web", RestartCount: restarts, Ready: true, State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{}}}},
		},
	}
	for _, m := range mutate {
		m(p)
	}
	return p
}

func oomKilled(p *corev1.Pod) {
	p.Status.ContainerStatuses[0].LastTerminationState.Terminated = &corev1.ContainerStateTerminated{Reason: "OOMKilled", ExitCode: 137}
}

func errored(p *corev1.Pod) {
	p.Status.ContainerStatuses[0].LastTerminationState.Terminated = &corev1.ContainerStateTerminated{Reason: "Error", ExitCode: 1}
}

func liveness(handler corev1.ProbeHandler) func(*appsv1.Deployment) {
	return func(d *appsv1.Deployment) {
		d.Spec.Template.Spec.Containers = []corev1.Container{{Name: "web", LivenessProbe: &corev1.Probe{ProbeHandler: handler}}}
	}
}

var httpGet = corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: "/healthz"}}
var execProbe = corev1.ProbeHandler{Exec: &corev1.ExecAction{Command: []string{"cat", "/tmp/healthy"}}}

// baseline3 is three web pods with no restarts, as a step would record them.
func baseline3() *Baseline {
	return NewBaseline([]*corev1.Pod{pod("web-a", "a", 0), pod("web-b", "b", 0), pod("web-c", "c", 0)}, nil)
}

// Every check type is proven both ways: the wrong state fails with a found
// message that says why, the right state passes.
func TestCheckTypes(t *testing.T) {
	tests := []struct {
		name      string
		spec      Spec
		baseline  *Baseline
		wrong     []runtime.Object
		wrongSays string
		right     []runtime.Object
	}{
		{
			name:      "deployment-available",
			spec:      mustSpec(t, "{type: deployment-available, name: web, replicas: 3}"),
			wrong:     []runtime.Object{deployment("web", 3, 2)},
			wrongSays: "2 available",
			right:     []runtime.Object{deployment("web", 3, 3)},
		},
		{
			name:      "deployment-available missing",
			spec:      mustSpec(t, "{type: deployment-available, name: web, replicas: 3}"),
			wrong:     nil,
			wrongSays: "no Deployment web",
			right:     []runtime.Object{deployment("web", 3, 3)},
		},
		{
			name:      "pod-count",
			spec:      mustSpec(t, "{type: pod-count, selector: app=web, count: 5}"),
			wrong:     []runtime.Object{pod("web-a", "a", 0), pod("web-b", "b", 0), pod("web-c", "c", 0)},
			wrongSays: "3 pods",
			right:     []runtime.Object{pod("web-a", "a", 0), pod("web-b", "b", 0), pod("web-c", "c", 0), pod("web-d", "d", 0), pod("web-e", "e", 0)},
		},
		{
			name:      "pod-replaced",
			spec:      mustSpec(t, "{type: pod-replaced, selector: app=web}"),
			baseline:  baseline3(),
			wrong:     []runtime.Object{pod("web-a", "a", 0), pod("web-b", "b", 0), pod("web-c", "c", 0)},
			wrongSays: "no UID changed",
			right:     []runtime.Object{pod("web-a", "a", 0), pod("web-b", "b", 0), pod("web-d", "d", 0)},
		},
		{
			name:      "pod-replaced deleted but not back",
			spec:      mustSpec(t, "{type: pod-replaced, selector: app=web}"),
			baseline:  baseline3(),
			wrong:     []runtime.Object{pod("web-a", "a", 0), pod("web-b", "b", 0)},
			wrongSays: "no new pod is running",
			right:     []runtime.Object{pod("web-a", "a", 0), pod("web-b", "b", 0), pod("web-x", "x", 0)},
		},
		{
			name:      "restarted",
			spec:      mustSpec(t, "{type: restarted, selector: app=web}"),
			baseline:  NewBaseline([]*corev1.Pod{pod("web-a", "a", 2)}, nil),
			wrong:     []runtime.Object{pod("web-a", "a", 2)},
			wrongSays: "no restart since the step started",
			right:     []runtime.Object{pod("web-a", "a", 3)},
		},
		{
			name:      "restarted new pod counts from zero",
			spec:      mustSpec(t, "{type: restarted, selector: app=web, container: web}"),
			baseline:  &Baseline{},
			wrong:     []runtime.Object{pod("web-n", "n", 0)},
			wrongSays: "restarts 0",
			right:     []runtime.Object{pod("web-n", "n", 1)},
		},
		{
			name:      "terminated-reason",
			spec:      mustSpec(t, "{type: terminated-reason, selector: app=web, reason: OOMKilled}"),
			wrong:     []runtime.Object{pod("web-a", "a", 1, errored)},
			wrongSays: "Error (exit code 1)",
			right:     []runtime.Object{pod("web-a", "a", 1, oomKilled)},
		},
		{
			name:      "probe",
			spec:      mustSpec(t, "{type: probe, name: web, probe: liveness, handler: httpGet}"),
			wrong:     []runtime.Object{deployment("web", 1, 1, liveness(execProbe))},
			wrongSays: "liveness=exec",
			right:     []runtime.Object{deployment("web", 1, 1, liveness(httpGet))},
		},
		{
			name:      "probe absent",
			spec:      mustSpec(t, "{type: probe, name: web, probe: liveness}"),
			wrong:     []runtime.Object{deployment("web", 1, 1, func(d *appsv1.Deployment) { d.Spec.Template.Spec.Containers = []corev1.Container{{Name: "web"}} })},
			wrongSays: "no probes",
			right:     []runtime.Object{deployment("web", 1, 1, liveness(execProbe))},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := runOnce(t, tc.spec, tc.baseline, tc.wrong...)
			if got.Passed {
				t.Fatalf("wrong state passed: %s", got.Sentence())
			}
			if !strings.Contains(got.Found, tc.wrongSays) {
				t.Errorf("found = %q, want it to contain %q", got.Found, tc.wrongSays)
			}
			if got := runOnce(t, tc.spec, tc.baseline, tc.right...); !got.Passed {
				t.Fatalf("right state failed: %s", got.Sentence())
			}
		})
	}
}

func runOnce(t *testing.T, s Spec, b *Baseline, objs ...runtime.Object) Result {
	t.Helper()
	e := fakeEngine(objs...)
	res, err := e.Run(context.Background(), []Spec{s}, Options{Baseline: b})
	if err != nil {
		t.Fatal(err)
	}
	return res[0]
}

// runWith judges s once on an engine the test set up (a prober).
func runWith(t *testing.T, e *Engine, s Spec) Result {
	t.Helper()
	res, err := e.Run(context.Background(), []Spec{s}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	return res[0]
}

// A waiting check passes on the event that makes it hold, long before its
// timeout, and a check that never holds fails at the step's deadline.
func TestEngineWaitsForEvents(t *testing.T) {
	e := fakeEngine(deployment("web", 3, 1))
	specs := []Spec{
		mustSpec(t, "{type: deployment-available, name: web, replicas: 3, timeout: 30s}"),
		mustSpec(t, "{type: pod-count, selector: app=nothing, count: 1, timeout: 300ms}"),
	}
	go func() {
		time.Sleep(200 * time.Millisecond)
		_, err := e.Dynamic.Resource(deploymentsGVR()).Namespace(ns).UpdateStatus(context.Background(), toUnstructured(t, deployment("web", 3, 3)), metav1.UpdateOptions{})
		if err != nil {
			t.Error(err)
		}
	}()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	res, err := e.Run(ctx, specs, Options{Wait: true, OnResult: func(r Result) {
		if r.Index == 0 {
			cancel() // the pod-count check would wait out the step's 30 s
		}
	}})
	if err != nil {
		t.Fatal(err)
	}
	if !res[0].Passed {
		t.Errorf("deployment check: %s", res[0].Sentence())
	}
	if el := res[0].Elapsed; el > 10*time.Second {
		t.Errorf("the deployment check took %s: it should pass on the update event, not at its 30s timeout", el)
	}
	if res[1].Passed {
		t.Errorf("pod-count check passed on an empty namespace: %s", res[1].Sentence())
	}
}

// A check that passed earlier in the step is not judged again, even if the
// state moved on.
func TestPassedStaysPassed(t *testing.T) {
	e := fakeEngine()
	res, err := e.Run(context.Background(), []Spec{mustSpec(t, "{type: deployment-available, name: web, replicas: 3}")}, Options{Passed: map[int]bool{0: true}})
	if err != nil {
		t.Fatal(err)
	}
	if !res[0].Passed {
		t.Fatalf("earlier pass was not kept: %s", res[0].Sentence())
	}
}

func TestCancelledRunReportsError(t *testing.T) {
	e := fakeEngine()
	ctx, cancel := context.WithCancel(context.Background())
	go func() { time.Sleep(time.Second); cancel() }()
	res, err := e.Run(ctx, []Spec{mustSpec(t, "{type: pod-count, selector: app=x, count: 1, timeout: 1m}")}, Options{Wait: true})
	if err != nil {
		t.Fatal(err)
	}
	if res[0].Err == nil || res[0].Passed {
		t.Fatalf("want a cancelled, unpassed result, got %+v", res[0])
	}
}

func TestParseSpecs(t *testing.T) {
	tests := []struct {
		name, src, wantErr string
	}{
		{"ok", "- type: pod-count\n  selector: app=web\n  count: 3\n  timeout: 90s\n", ""},
		{"unknown type", "- type: pod-cuont\n  selector: app=web\n", `unknown check type "pod-cuont"`},
		{"unknown field", "- type: pod-count\n  selector: app=web\n  count: 3\n  replica: 2\n", `unknown field "replica"`},
		{"missing field", "- type: deployment-available\n  name: web\n", `check 1: deployment-available: field "replicas" is required`},
		{"bad selector", "- type: pod-count\n  selector: 'app in ('\n  count: 1\n", "selector"},
		{"bad timeout", "- type: pod-count\n  selector: app=web\n  count: 1\n  timeout: soon\n", "timeout"},
		{"not a list", "type: pod-count\n", "not a YAML list"},
		{"empty", "", "empty"},
		{"probe kind", "- type: probe\n  name: web\n  probe: alive\n", "liveness, readiness or startup"},
		// Values that can never be observed, and fields of another type.
		{"negative count", "- {type: pod-count, selector: app=web, count: -3}", `field "count" must not be negative, got -3`},
		{"negative replicas", "- {type: deployment-available, name: web, replicas: -1}", `field "replicas" must not be negative`},
		{"negative timeout", "- {type: pod-count, selector: app=web, count: 1, timeout: -5s}", "timeout -5s must be positive"},
		{"zero timeout", "- {type: pod-count, selector: app=web, count: 1, timeout: 0s}", "timeout 0s must be positive"},
		{"negative rate", "- {type: availability, target: web, min: 100, during: x, rate: -5}", `field "rate" must be between 0`},
		{"huge rate", "- {type: availability, target: web, min: 100, during: x, rate: 2e9}", `field "rate" must be between 0`},
		{"negative settle", "- {type: availability, target: web, min: 100, during: x, settle: -1s}", `field "settle" must not be negative`},
		{"zero concurrency", "- {type: availability, target: web, min: 100, during: x, concurrency: 0}", `field "concurrency" must be 1 to 64`},
		{"field of another type", "- {type: pod-count, selector: app=web, count: 1, min: 3, reason: OOMKilled}", `check 1: pod-count: unknown fields "min", "reason" (this type takes: type, description, timeout, selector, count)`},
		{"field in another case", "- {type: pod-count, selector: app=web, count: 1, Count: 5}", `unknown field "Count"`},
		{"type in another case", "- {Type: pod-count, selector: app=web, count: 1}", `field "type" is required`},
		{"value of the wrong type", "- {type: pod-count, selector: app=web, count: many}", `check 1: pod-count: field "count" must be a whole number, not string`},
		{"bad timeout names the check", "- {type: pod-count, selector: app=web, count: 1}\n- {type: pod-count, selector: app=web, count: 1, timeout: soon}", `check 2: field "timeout": "soon": want a duration such as 30s or 2m`},
		{"entry not a map", "- pod-count", "check 1: a check is a map"},
		{"fractional count", "- {type: pod-count, selector: app=web, count: 1.5}", `field "count" must be a whole number, not number 1.5`},
		{"missing type", "- {selector: app=web}", `field "type" is required`},
		{"two availability checks", "- {type: availability, target: web, min: 100, during: x}\n- {type: availability, target: api, min: 90, during: x}", "check 2: a step may have one availability check"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseSpecs([]byte(tc.src))
			switch {
			case tc.wantErr == "" && err != nil:
				t.Fatalf("ParseSpecs(%q) = %v, want no error", tc.src, err)
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
				t.Fatalf("ParseSpecs(%q) = %v, want error containing %q", tc.src, err, tc.wantErr)
			}
		})
	}
}

// deployment-available compares with the desired count too: a 3-replica
// Deployment with one pod down does not pass "2 available".
func TestDeploymentAvailableWantsDesiredCount(t *testing.T) {
	c, err := Compile(mustSpec(t, "{type: deployment-available, name: web, replicas: 2}"))
	if err != nil {
		t.Fatal(err)
	}
	sc := c.(StateCheck)
	for _, tc := range []struct {
		name string
		d    *appsv1.Deployment
		want bool
	}{
		{"3 desired, 2 available", deployment("web", 3, 2), false},
		{"2 desired, 1 available", deployment("web", 2, 1), false},
		{"2 desired, 2 available", deployment("web", 2, 2), true},
	} {
		ok, found := sc.Evaluate(stateOf(t, tc.d))
		if ok != tc.want {
			t.Errorf("%s: passed=%v (%s), want %v", tc.name, ok, found, tc.want)
		}
	}
}

// A spec survives a JSON round trip (labs test -o json, progress files).
func TestSpecRoundTrip(t *testing.T) {
	s := mustSpec(t, "{type: pod-count, selector: app=web, count: 2, timeout: 90s, description: two}")
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	var back Spec
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if back.Type != "pod-count" || back.Description != "two" || TimeoutOf(back) != 90*time.Second || !strings.Contains(string(back.Params), `"count":2`) {
		t.Errorf("round trip of %s gave %+v", b, back)
	}
}

// `labs check --timeout` shortens waiting, never an active check's action.
func TestTimeoutOverrideSparesActions(t *testing.T) {
	p := &fakeProber{stats: LoadStats{Transactions: 1, Successful: 1, AvailabilityPercent: 100}}
	e := fakeEngine()
	e.Prober = p
	specs := []Spec{mustSpec(t, "{type: availability, target: web, min: 100, during: x, timeout: 4m}")}
	if _, err := e.Run(context.Background(), specs, Options{Wait: true, Timeout: 5 * time.Second}); err != nil {
		t.Fatal(err)
	}
	if p.got.Timeout != 4*time.Minute {
		t.Errorf("the action got timeout %s, want the check's own 4m0s", p.got.Timeout)
	}
}

// When the API server does not answer, the run ends within the checks'
// timeout with ErrNotSynced instead of waiting forever.
func TestRunEndsWhenTheClusterDoesNotAnswer(t *testing.T) {
	e := fakeEngine()
	e.Dynamic.(*dynamicfake.FakeDynamicClient).PrependReactor("list", "*", func(k8stesting.Action) (bool, runtime.Object, error) {
		return true, nil, errors.New("dial tcp 127.0.0.1:6443: connect: connection refused")
	})
	done := make(chan error, 1)
	go func() {
		_, err := e.Run(context.Background(), []Spec{mustSpec(t, "{type: pod-count, selector: app=x, count: 1}")}, Options{Wait: true, Timeout: 2 * time.Second})
		done <- err
	}()
	select {
	case err := <-done:
		if !errors.Is(err, ErrNotSynced) {
			t.Fatalf("err = %v, want ErrNotSynced", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the engine still waits 30s after a 2s timeout on a cluster that does not answer")
	}
}

// A learner whose RBAC does not let them list what a check reads hears so
// at once, naming the resource, not "the API server does not answer" after
// the whole timeout.
func TestRunSaysForbiddenAtOnce(t *testing.T) {
	e := fakeEngine()
	e.Dynamic.(*dynamicfake.FakeDynamicClient).PrependReactor("list", "pods", func(k8stesting.Action) (bool, runtime.Object, error) {
		return true, nil, apierrors.NewForbidden(schema.GroupResource{Resource: "pods"}, "", errors.New(`User "learner" cannot list resource "pods"`))
	})
	start := time.Now()
	_, err := e.Run(context.Background(), []Spec{mustSpec(t, "{type: pod-count, selector: app=x, count: 1}")}, Options{Wait: true, Timeout: 20 * time.Second})
	if !errors.Is(err, ErrForbidden) || !strings.Contains(err.Error(), "pods") || !strings.Contains(err.Error(), "namespace "+ns) {
		t.Fatalf("err = %v, want ErrForbidden naming pods in namespace %s", err, ns)
	}
	if el := time.Since(start); el > 10*time.Second {
		t.Fatalf("the refusal took %s to say, want well under the 20s timeout", el)
	}
}

func TestCollectEvidence(t *testing.T) {
	ev := &corev1.Event{
		ObjectMeta:     metav1.ObjectMeta{Name: "e1", Namespace: ns},
		Type:           "Warning",
		Reason:         "BackOff",
		Message:        "Back-off restarting failed container",
		InvolvedObject: corev1.ObjectReference{Kind: "Pod", Name: "web-a"},
		Count:          3,
	}
	stale := ev.DeepCopy()
	stale.Name, stale.InvolvedObject.Name = "e2", "db-gone"
	other := pod("db-a", "z", 0, func(p *corev1.Pod) { p.Labels = map[string]string{"app": "db"} })
	got, err := CollectEvidence(context.Background(), fakeEngine(ev, stale, pod("web-a", "a", 2, oomKilled), other).Dynamic, ns, []Concern{{Selector: "app=web"}}, 5)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Events) != 1 || !strings.Contains(got.Events[0], "BackOff Pod/web-a") || !strings.Contains(got.Events[0], "(x3)") {
		t.Errorf("events = %q, want only the one about web-a", got.Events)
	}
	if len(got.Pods) != 1 || !strings.Contains(got.Pods[0], "restarts 2") || !strings.Contains(got.Pods[0], "OOMKilled") {
		t.Errorf("pods = %q, want only web-a with its restarts and OOMKilled", got.Pods)
	}
}

// A Deployment check's evidence covers the Deployment's pods (through its
// selector) and the events of its ReplicaSets, not its neighbours'.
func TestCollectEvidenceForDeployment(t *testing.T) {
	d := deployment("web", 3, 0, func(d *appsv1.Deployment) {
		d.Spec.Selector = &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}}
	})
	rsEvent := &corev1.Event{
		ObjectMeta: metav1.ObjectMeta{Name: "e1", Namespace: ns}, Type: "Warning", Reason: "FailedCreate",
		Message: "quota exceeded", InvolvedObject: corev1.ObjectReference{Kind: "ReplicaSet", Name: "web-5d9f"},
	}
	other := rsEvent.DeepCopy()
	other.Name, other.InvolvedObject.Name = "e2", "webhook-1"
	db := pod("db-a", "z", 0, func(p *corev1.Pod) { p.Labels = map[string]string{"app": "db"} })
	got, err := CollectEvidence(context.Background(), fakeEngine(d, rsEvent, other, pod("web-a", "a", 0), db).Dynamic, ns, []Concern{ConcernOf(mustSpec(t, "{type: deployment-available, name: web, replicas: 1}"))}, 5)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Events) != 1 || !strings.Contains(got.Events[0], "ReplicaSet/web-5d9f") {
		t.Errorf("events = %q, want only the ReplicaSet's", got.Events)
	}
	if len(got.Pods) != 1 || !strings.HasPrefix(got.Pods[0], "web-a:") {
		t.Errorf("pods = %q, want only web-a", got.Pods)
	}
}

type fakeProber struct {
	stats LoadStats
	err   error
	got   AvailabilityRequest

	mu    sync.Mutex
	exec  func(ExecRequest) (ExecResult, error)
	http  func(HTTPRequest) (HTTPResponse, error)
	execs []ExecRequest
	// node: the process found for any container, and the node's files
	// (a command "cat FILE" prints FILE's entry; "sh -c ..." prints
	// nodeShell).
	node      NodeProcess
	nodeFiles map[string]string
	nodeShell string
	// dryRun answers a denied check's request; logs, a logs check's.
	dryRun func(DryRunRequest) error
	logs   func(LogsRequest) (string, error)
}

func (f *fakeProber) DryRun(ctx context.Context, req DryRunRequest) error {
	if f.dryRun == nil {
		return errors.New("no API server here")
	}
	return f.dryRun(req)
}

func (f *fakeProber) Logs(ctx context.Context, req LogsRequest) (string, error) {
	if f.logs == nil {
		return "", errors.New("no API server here")
	}
	return f.logs(req)
}

func (f *fakeProber) NodeProcess(ctx context.Context, node, containerID string) (NodeProcess, error) {
	if f.node.PID == 0 {
		return NodeProcess{}, errors.New("no process of container " + containerID + " runs on node " + node)
	}
	return f.node, nil
}

func (f *fakeProber) NodeExec(ctx context.Context, node string, cmd []string) (ExecResult, error) {
	if len(cmd) == 2 && cmd[0] == "cat" {
		v, ok := f.nodeFiles[cmd[1]]
		if !ok {
			return ExecResult{ExitCode: 1, Stderr: "cat: " + cmd[1] + ": No such file or directory"}, nil
		}
		return ExecResult{Stdout: v + "\n"}, nil
	}
	return ExecResult{Stdout: f.nodeShell}, nil
}

func (f *fakeProber) Availability(ctx context.Context, req AvailabilityRequest) (LoadStats, error) {
	f.got = req
	return f.stats, f.err
}

func (f *fakeProber) Exec(ctx context.Context, req ExecRequest) (ExecResult, error) {
	f.mu.Lock()
	f.execs = append(f.execs, req)
	run := f.exec
	f.mu.Unlock()
	if run == nil {
		return ExecResult{}, errors.New("no exec here")
	}
	return run(req)
}

func (f *fakeProber) HTTP(ctx context.Context, req HTTPRequest) (HTTPResponse, error) {
	if f.http == nil {
		return HTTPResponse{}, errors.New("no http here")
	}
	return f.http(req)
}

// The availability arithmetic: seed 004's 70.09% fails a 100% bar, 100%
// passes, and a run that made no requests proves nothing.
func TestAvailabilityCheck(t *testing.T) {
	spec := mustSpec(t, "{type: availability, target: web, min: 100, during: kubectl rollout restart deploy/web}")
	tests := []struct {
		name      string
		stats     LoadStats
		pass      bool
		foundSays string
	}{
		{"lossy rollout", LoadStats{Transactions: 117, Successful: 82, Failed: 35, AvailabilityPercent: 70.09, FailureReasons: map[string]int64{"connection refused": 35}}, false, "70.09% (82 of 117 requests succeeded; failures: connection refused 35)"},
		{"lossless rollout", LoadStats{Transactions: 112, Successful: 112, AvailabilityPercent: 100}, true, "100.00% (112 of 112"},
		{"no requests", LoadStats{}, false, "no requests were made"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := &fakeProber{stats: tc.stats}
			e := fakeEngine()
			e.Prober = p
			res, err := e.Run(context.Background(), []Spec{spec}, Options{Wait: true})
			if err != nil {
				t.Fatal(err)
			}
			if res[0].Passed != tc.pass || !strings.Contains(res[0].Found, tc.foundSays) {
				t.Errorf("got passed=%v %q; want passed=%v containing %q", res[0].Passed, res[0].Found, tc.pass, tc.foundSays)
			}
			if p.got.Target != "web" || p.got.Concurrency != 2 || p.got.Settle != 3*time.Second || !strings.Contains(p.got.Action, "rollout restart") {
				t.Errorf("request = %+v", p.got)
			}
		})
	}
}

func TestAvailabilityWithoutProberIsAnError(t *testing.T) {
	e := fakeEngine()
	res, err := e.Run(context.Background(), []Spec{mustSpec(t, "{type: availability, target: web, min: 99.5, during: 'true'}")}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if res[0].Passed || res[0].Err == nil {
		t.Errorf("got %+v, want an error result", res[0])
	}
	if !strings.Contains(res[0].Expected, "at least 99.5% of requests to web") {
		t.Errorf("expected = %q", res[0].Expected)
	}
}

func TestAvailabilitySpecValidation(t *testing.T) {
	for _, src := range []string{
		"- {type: availability, target: web, during: x}",
		"- {type: availability, target: web, min: 101, during: x}",
		"- {type: availability, min: 100, during: x}",
		"- {type: availability, target: web, min: 100}",
	} {
		if _, err := ParseSpecs([]byte(src)); err == nil {
			t.Errorf("ParseSpecs(%s): want an error", src)
		}
	}
}

// The continuous run emits every change of a verdict: failing first, then
// passing once the state holds, without being asked again.
func TestWatchEmitsEachChange(t *testing.T) {
	e := fakeEngine(deployment("web", 3, 1))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	got := make(chan []Result, 10)
	done := make(chan error, 1)
	go func() {
		done <- e.Watch(ctx, []Spec{mustSpec(t, "{type: deployment-available, name: web, replicas: 3}")}, Options{}, func(rs []Result) { got <- rs })
	}()
	first := <-got
	if first[0].Passed || !strings.Contains(first[0].Found, "1 available") {
		t.Fatalf("first verdict = %+v", first[0])
	}
	if _, err := e.Dynamic.Resource(deploymentsGVR()).Namespace(ns).UpdateStatus(ctx, toUnstructured(t, deployment("web", 3, 3)), metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	select {
	case next := <-got:
		if !next[0].Passed {
			t.Errorf("after the update: %+v", next[0])
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no verdict after the state changed")
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

func TestExpandVars(t *testing.T) {
	vars := map[string]string{"LAB_WORKER_1": "labs-e2e-worker", "Q": `a"b`}
	for in, want := range map[string]string{
		"cordon ${LAB_WORKER_1} now":      "cordon labs-e2e-worker now",
		"keep $HOME, ${UNKNOWN} and ^v1$": "keep $HOME, ${UNKNOWN} and ^v1$",
		"${LAB_WORKER_1}${LAB_WORKER_1}":  "labs-e2e-workerlabs-e2e-worker",
		"open ${ at the end":              "open ${ at the end",
	} {
		if got := ExpandVars(in, vars); got != want {
			t.Errorf("ExpandVars(%q) = %q, want %q", in, got, want)
		}
	}
	s := mustSpec(t, "{type: object, kind: Node, name: '${LAB_WORKER_1}', match: {metadata: {labels: {q: '${Q}'}}}}").Expand(vars)
	c, err := Compile(s)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(c.Expected(), "Node labs-e2e-worker") || !strings.Contains(string(s.Params), `a\"b`) {
		t.Errorf("expanded spec: %s / %s", c.Expected(), s.Params)
	}
}

// Checks that compare with the step's beginning (or need an answer) say so;
// those judged on the state alone do not.
func TestNeedsHistory(t *testing.T) {
	for src, want := range map[string]bool{
		"{type: pod-replaced, selector: app=web}":                                                                   true,
		"{type: restarted, selector: app=web}":                                                                      true,
		"{type: events, reason: Killing}":                                                                           true,
		"{type: answer, truth: pod-ip, pod: web, question: what IP}":                                                true,
		"{type: exec, pod: web, command: date, changed: true}":                                                      true,
		"{type: exec, pod: web, command: date, stdout: x}":                                                          false,
		"{type: object, kind: Pod, expr: 'size(objects) > size(baseline.pods)'}":                                    true,
		"{type: object, kind: Pod, expr: 'size(objects) == 3'}":                                                     false,
		"{type: availability, target: web, min: 100, during: \"true\"}":                                             true,
		"{type: pod-count, selector: app=web, count: 3}":                                                            false,
		"{type: deployment-available, name: web, replicas: 3}":                                                      false,
		"{type: object, kind: Pod, expr: 'objects.all(p, timestamp(p.metadata.creationTimestamp) > step.started)'}": true,
		"{type: object, kind: Pod, expr: 'size(objects) == 1', capture: {STARTED: 'string(step.started)'}}":         true,
		"{type: object, kind: Pod, expr: 'size(objects) == 1', with: {nd: {kind: Node, name: a}}}":                  false,
		"{type: logs, pod: web, match: hi, sinceStep: true}":                                                        true,
		"{type: logs, pod: web, match: hi}":                                                                         false,
		"{type: denied, reason: quota, manifest: {apiVersion: v1, kind: Pod, metadata: {name: a}}}":                 false,
	} {
		specs, err := ParseSpecs([]byte("- " + src))
		if err != nil {
			t.Fatalf("%s: %v", src, err)
		}
		why, err := NeedsHistory(specs[0])
		if err != nil || (why != "") != want {
			t.Errorf("NeedsHistory(%s) = %q, %v; want history %v", src, why, err, want)
		}
	}
}
