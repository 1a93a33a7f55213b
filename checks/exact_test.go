package checks

// Tests of what makes checks exact enough for CKA/CKAD-style tasks: every
// namespace at once, the step's own time, Kubernetes' CEL libraries, other
// objects in one rule, refusals, logs, load spread, and one deadline per
// step. Each proves a wrong state fails, naming what is wrong, and the
// right state passes.

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/cel-go/cel"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// onNode is a pod of namespace pns on a node, owned by kind (a DaemonSet,
// a ReplicaSet) when kind is not "".
func onNode(pns, name, nodeName, kind string) *corev1.Pod {
	p := pod(name, pns+"-"+name, 0)
	p.Namespace, p.Spec.NodeName, p.Labels = pns, nodeName, map[string]string{"app": name}
	if kind != "" {
		p.OwnerReferences = []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: kind, Name: name, UID: "owner"}}
	}
	return p
}

func created(at time.Time) func(*corev1.Pod) {
	return func(p *corev1.Pod) { p.CreationTimestamp = metav1.NewTime(at) }
}

func withLimit(mem string) func(*appsv1.Deployment) {
	return func(d *appsv1.Deployment) {
		d.Spec.Template.Spec.Containers = []corev1.Container{{Name: "web", Resources: corev1.ResourceRequirements{
			Limits: corev1.ResourceList{corev1.ResourceMemory: resource.MustParse(mem)},
		}}}
	}
}

func allocatable(name, mem string) *corev1.Node {
	n := node(name, false)
	n.Status.Allocatable = corev1.ResourceList{corev1.ResourceMemory: resource.MustParse(mem)}
	return n
}

func quota(key, value string) *corev1.ResourceQuota {
	return &corev1.ResourceQuota{ObjectMeta: metav1.ObjectMeta{Name: "memory", Namespace: ns},
		Spec: corev1.ResourceQuotaSpec{Hard: corev1.ResourceList{corev1.ResourceName(key): resource.MustParse(value)}}}
}

func labelled(d *appsv1.Deployment) { d.Labels = map[string]string{"app": "web"} }

const drained = `{type: object, kind: Pod, namespace: "*", count: 0,
  expr: "object.spec.?nodeName.orValue('') == 'w2' && !object.metadata.?ownerReferences.orValue([]).exists(o, o.kind == 'DaemonSet')"}`

func TestExactObjectChecks(t *testing.T) {
	started := time.Date(2026, 12, 6, 10, 0, 0, 0, time.UTC)
	atStart := &Baseline{Started: started}
	tests := []struct {
		name      string
		spec      string
		baseline  *Baseline
		wrong     []runtime.Object
		wrongSays string
		right     []runtime.Object
	}{
		{
			// The drain of `nodes`: a pod of any namespace left on the
			// node fails it, named with its namespace; DaemonSet pods stay.
			name:      "every namespace, count 0",
			spec:      drained,
			wrong:     []runtime.Object{onNode("kube-system", "kindnet-a", "w2", "DaemonSet"), onNode("kube-system", "coredns-x", "w2", "ReplicaSet"), onNode(ns, "web-1", "w1", "ReplicaSet")},
			wrongSays: "1 of 3 selected satisfies it; first that does: Pod kube-system/coredns-x",
			right:     []runtime.Object{onNode("kube-system", "kindnet-a", "w2", "DaemonSet"), onNode("kube-system", "coredns-x", "w1", "ReplicaSet"), onNode(ns, "web-1", "w1", "ReplicaSet")},
		},
		{
			name:      "step.started against creation times",
			spec:      "{type: object, kind: Pod, selector: app=web, expr: \"objects.filter(p, timestamp(p.metadata.creationTimestamp) >= step.started).size() == 2\"}",
			baseline:  atStart,
			wrong:     []runtime.Object{pod("web-a", "a", 0, created(started.Add(-time.Minute))), pod("web-b", "b", 0, created(started.Add(time.Second)))},
			wrongSays: "is false over 2 Pods",
			right:     []runtime.Object{pod("web-a", "a", 0, created(started)), pod("web-b", "b", 0, created(started.Add(time.Second)))},
		},
		{
			// 209715200 and 200Mi are one quantity; as strings they differ.
			name:      "quantity arithmetic",
			spec:      "{type: object, kind: Deployment, name: web, expr: \"quantity(object.spec.template.spec.containers[0].resources.limits.memory).compareTo(quantity('200Mi')) == 0\"}",
			wrong:     []runtime.Object{deployment("web", 1, 1, withLimit("300Mi"))},
			wrongSays: "is false (Deployment web)",
			right:     []runtime.Object{deployment("web", 1, 1, withLimit("209715200"))},
		},
		{
			name: "another object by name (with)",
			spec: `{type: object, kind: Deployment, name: web, with: {node: {kind: Node, name: w1}},
			  expr: "quantity(object.spec.template.spec.containers[0].resources.limits.memory).isLessThan(quantity(node.status.allocatable.memory))"}`,
			wrong:     []runtime.Object{deployment("web", 1, 1, withLimit("1500Gi")), allocatable("w1", "7Gi")},
			wrongSays: "is false (Deployment web)",
			right:     []runtime.Object{deployment("web", 1, 1, withLimit("200Mi")), allocatable("w1", "7Gi")},
		},
		{
			name:      "a named with: object that is missing is said",
			spec:      `{type: object, kind: Deployment, name: web, with: {node: {kind: Node, name: w1}}, expr: "has(node.status)"}`,
			wrong:     []runtime.Object{deployment("web", 1, 1)},
			wrongSays: "no Node w1 (with: node)",
			right:     []runtime.Object{deployment("web", 1, 1), allocatable("w1", "7Gi")},
		},
		{
			name:      "a with: list by selector",
			spec:      `{type: object, kind: Deployment, name: web, with: {pods: {kind: Pod, selector: app=web}}, expr: "size(pods) == object.spec.replicas"}`,
			wrong:     []runtime.Object{deployment("web", 2, 2), pod("web-a", "a", 0)},
			wrongSays: "`size(pods) == object.spec.replicas` is false (Deployment web)",
			right:     []runtime.Object{deployment("web", 2, 2), pod("web-a", "a", 0), pod("web-b", "b", 0)},
		},
		{
			// The resources lab's quota: either key, any spelling of 1Gi.
			name:      "optional map keys and quantities",
			spec:      `{type: object, kind: ResourceQuota, name: memory, expr: "[object.spec.?hard[?'requests.memory'], object.spec.?hard[?'memory']].exists(q, q.hasValue() && quantity(q.value()).compareTo(quantity('1Gi')) == 0)"}`,
			wrong:     []runtime.Object{quota("requests.memory", "2Gi")},
			wrongSays: "is false (ResourceQuota memory)",
			right:     []runtime.Object{quota("memory", "1073741824")},
		},
		{
			name:      "optional map keys and quantities, the other key",
			spec:      `{type: object, kind: ResourceQuota, name: memory, expr: "[object.spec.?hard[?'requests.memory'], object.spec.?hard[?'memory']].exists(q, q.hasValue() && quantity(q.value()).compareTo(quantity('1Gi')) == 0)"}`,
			wrong:     []runtime.Object{quota("limits.memory", "1Gi")},
			wrongSays: "is false (ResourceQuota memory)",
			right:     []runtime.Object{quota("requests.memory", "1024Mi")},
		},
		{
			name:      "a with: list and a list-level expr",
			spec:      `{type: object, kind: Deployment, selector: app=web, with: {nodes: {kind: Node}}, expr: "objects.map(d, d.spec.replicas).sum() <= size(nodes) * 2"}`,
			wrong:     []runtime.Object{deployment("web", 5, 5, labelled), allocatable("w1", "1Gi"), allocatable("w2", "1Gi")},
			wrongSays: "is false over 1 Deployment",
			right:     []runtime.Object{deployment("web", 4, 4, labelled), allocatable("w1", "1Gi"), allocatable("w2", "1Gi")},
		},
		{
			name:      "CEL list, regex and string libraries",
			spec:      `{type: object, kind: Pod, selector: app=web, expr: "objects.map(p, p.metadata.name).isSorted() && objects.all(p, p.metadata.name.matches('^web-[a-z]$')) && objects.map(p, p.metadata.name.upperAscii()).exists(n, n == 'WEB-A')"}`,
			wrong:     []runtime.Object{pod("web-1", "1", 0), pod("web-a", "a", 0)},
			wrongSays: "is false over 2 Pods",
			right:     []runtime.Object{pod("web-a", "a", 0), pod("web-b", "b", 0)},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := mustSpec(t, tc.spec)
			wrong := runOnce(t, s, tc.baseline, tc.wrong...)
			if wrong.Passed || !strings.Contains(wrong.Found, tc.wrongSays) {
				t.Errorf("wrong state: passed=%v, found %q; want it to fail saying %q", wrong.Passed, wrong.Found, tc.wrongSays)
			}
			if right := runOnce(t, s, tc.baseline, tc.right...); !right.Passed {
				t.Errorf("right state failed: %s", right.Sentence())
			}
		})
	}
}

// Defect: `count: 0` failed naming an object that was fine ("first that
// does not: ... (Pod kube-proxy-...)"); it must name one that does.
func TestCountZeroNamesTheOffender(t *testing.T) {
	s := mustSpec(t, "{type: object, kind: Pod, count: 0, expr: \"object.spec.nodeName == 'w2' && !object.metadata.?ownerReferences.orValue([]).exists(o, o.kind == 'DaemonSet')\"}")
	got := runOnce(t, s, nil, onNode(ns, "kube-proxy-a", "w2", "DaemonSet"), onNode(ns, "web-x", "w2", "ReplicaSet"))
	if got.Passed {
		t.Fatalf("a pod left on the node passed: %s", got.Sentence())
	}
	if strings.Contains(got.Found, "kube-proxy") || !strings.Contains(got.Found, "web-x") {
		t.Errorf("found %q: it must name web-x (left on the node), not the DaemonSet pod", got.Found)
	}
}

// nodeEvent is a kubelet's event about its node, in namespace default.
func nodeEvent(uid, reason, nodeName string, count int32) *corev1.Event {
	e := event(uid, reason, "Node", nodeName, count)
	e.Namespace, e.Type = "default", corev1.EventTypeNormal
	return e
}

// Defect: an events check of another namespace counted an event older
// than the step as new, because the baseline held only the lab
// namespace's events. A Node's events live in default.
func TestEventsOfAnotherNamespaceNeedANewEvent(t *testing.T) {
	for _, where := range []string{"default", "'*'"} {
		t.Run(where, func(t *testing.T) {
			s := mustSpec(t, "{type: events, reason: NodeNotSchedulable, kind: Node, name: w2, namespace: "+where+"}")
			old := nodeEvent("old", "NodeNotSchedulable", "w2", 1)
			e := fakeEngine(old)
			b, err := e.TakeBaseline(context.Background(), []Spec{s})
			if err != nil {
				t.Fatal(err)
			}
			res, err := e.Run(context.Background(), []Spec{s}, Options{Baseline: b})
			if err != nil {
				t.Fatal(err)
			}
			if res[0].Passed || !strings.Contains(res[0].Found, "only events from before the step started") {
				t.Fatalf("an hour-old event passed, or was not said old: %s", res[0].Sentence())
			}
			// The cordon again: the kubelet's event counts up.
			again := nodeEvent("old", "NodeNotSchedulable", "w2", 2)
			if _, err := e.Dynamic.Resource(eventsGVR()).Namespace("default").Update(context.Background(), toUnstructured(t, again), metav1.UpdateOptions{}); err != nil {
				t.Fatal(err)
			}
			res, err = e.Run(context.Background(), []Spec{s}, Options{Baseline: b})
			if err != nil {
				t.Fatal(err)
			}
			if !res[0].Passed {
				t.Fatalf("an event that happened again failed: %s", res[0].Sentence())
			}
		})
	}
}

// The baseline records the API server's time (whole seconds), by the
// engine's clock.
func TestBaselineRecordsTheServersTime(t *testing.T) {
	e := fakeEngine()
	server := time.Date(2026, 12, 6, 10, 0, 5, 700_000_000, time.UTC)
	e.Clock = func(context.Context) time.Time { return server }
	b, err := e.TakeBaseline(context.Background(), []Spec{mustSpec(t, "{type: pod-count, selector: app=web, count: 1}")})
	if err != nil {
		t.Fatal(err)
	}
	if want := server.Truncate(time.Second); !b.Started.Equal(want) {
		t.Errorf("baseline started %s, want the server's %s", b.Started, want)
	}
}

func TestDeniedCheck(t *testing.T) {
	spec := mustSpec(t, `{type: denied, reason: exceeded quota, manifest: "apiVersion: v1\nkind: Pod\nmetadata: {name: big}\nspec: {containers: [{name: a, image: 'labapp:v1'}]}"}`)
	podsGR := schema.GroupResource{Resource: "pods"}
	tests := []struct {
		name   string
		answer error
		pass   bool
		says   string
	}{
		{"accepted", nil, false, "the API server would accept it"},
		{"refused for another reason", apierrors.NewForbidden(podsGR, "big", errors.New(`violates PodSecurity "baseline:latest": privileged`)), false, "refused, but for another reason: Forbidden: pods \"big\" is forbidden: violates PodSecurity"},
		{"refused by the quota", apierrors.NewForbidden(podsGR, "big", errors.New("exceeded quota: small, requested: requests.memory=1Gi, used: requests.memory=0, limited: requests.memory=512Mi")), true, "refused: Forbidden: pods \"big\" is forbidden: exceeded quota: small"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var got DryRunRequest
			e := fakeEngine()
			e.Prober = &fakeProber{dryRun: func(r DryRunRequest) error { got = r; return tc.answer }}
			res := runWith(t, e, spec)
			if res.Passed != tc.pass || !strings.Contains(res.Found, tc.says) {
				t.Errorf("passed=%v found %q; want passed=%v saying %q", res.Passed, res.Found, tc.pass, tc.says)
			}
			if got.Verb != "create" || got.Object.GetName() != "big" || got.Namespace != ns || got.ServiceAccount != "" {
				t.Errorf("request %+v: want a create of Pod big in %s as the learner", got, ns)
			}
		})
	}
	// As a ServiceAccount of the lab's namespace.
	sa := mustSpec(t, `{type: denied, verb: delete, serviceAccount: viewer, reason: 'cannot delete resource "pods"', manifest: "apiVersion: v1\nkind: Pod\nmetadata: {name: web}"}`)
	var got DryRunRequest
	e := fakeEngine()
	e.Prober = &fakeProber{dryRun: func(r DryRunRequest) error {
		got = r
		return apierrors.NewForbidden(podsGR, "web", fmt.Errorf(`User "system:serviceaccount:%s:viewer" cannot delete resource "pods" in API group "" in the namespace %q`, ns, ns))
	}}
	if res := runWith(t, e, sa); !res.Passed || got.ServiceAccount != ns+"/viewer" || got.Verb != "delete" {
		t.Errorf("as a ServiceAccount: %s; request %+v", res.Sentence(), got)
	}
}

func TestLogsCheck(t *testing.T) {
	started := time.Date(2026, 12, 6, 10, 0, 0, 0, time.UTC)
	done := func(p *corev1.Pod) {
		p.Labels = map[string]string{"job-name": "hello"}
		p.Status.Phase = corev1.PodSucceeded
		p.Status.ContainerStatuses[0].State = corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{Reason: "Completed"}}
	}
	pending := func(p *corev1.Pod) {
		done(p)
		p.Status.Phase = corev1.PodPending
		p.Status.ContainerStatuses[0].State = corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "ContainerCreating"}}
	}
	printed := map[string]string{"hello-a": "hello world\n", "hello-b": "hello world\nbye\n", "hello-c": "hello world\n"}
	var asked []LogsRequest
	prober := &fakeProber{logs: func(r LogsRequest) (string, error) {
		asked = append(asked, r)
		return printed[r.Pod], nil
	}}
	spec := mustSpec(t, "{type: logs, selector: job-name=hello, match: '^hello world$', count: 3, sinceStep: true}")
	judge := func(objs ...runtime.Object) Result {
		e := fakeEngine(objs...)
		e.Prober = prober
		res, err := e.Run(context.Background(), []Spec{spec}, Options{Baseline: &Baseline{Started: started}})
		if err != nil {
			t.Fatal(err)
		}
		return res[0]
	}
	wrong := judge(pod("hello-a", "a", 0, done), pod("hello-b", "b", 0, done), pod("hello-c", "c", 0, pending))
	if wrong.Passed || !strings.Contains(wrong.Found, `2 lines matching "^hello world$" (hello-a ×1, hello-b ×1); pod hello-c has not run it yet (ContainerCreating)`) {
		t.Errorf("two of three pods done: %s", wrong.Sentence())
	}
	right := judge(pod("hello-a", "a", 0, done), pod("hello-b", "b", 0, done), pod("hello-c", "c", 0, done))
	if !right.Passed {
		t.Errorf("three pods printed it: %s", right.Sentence())
	}
	for _, r := range asked {
		if !r.Since.Equal(started) {
			t.Errorf("sinceStep read %s's log since %s, want the step's start %s", r.Pod, r.Since, started)
		}
	}
	none := mustSpec(t, "{type: logs, pod: hello-b, match: goodbye}")
	e := fakeEngine(pod("hello-b", "b", 0, done))
	e.Prober = prober
	if res := runWith(t, e, none); res.Passed || !strings.Contains(res.Found, `0 lines matching "goodbye"; the last line printed: pod hello-b: "bye"`) {
		t.Errorf("no match: %s", res.Sentence())
	}
}

func TestHTTPSpread(t *testing.T) {
	spec := mustSpec(t, "{type: http, service: web, requests: 12, distinct: 3}")
	judge := func(pods int) Result {
		n := 0
		e := fakeEngine()
		e.Prober = &fakeProber{http: func(HTTPRequest) (HTTPResponse, error) {
			n++
			return HTTPResponse{Status: 200, Body: fmt.Sprintf("labapp v1 web-%d\n", n%pods)}, nil
		}}
		return runWith(t, e, spec)
	}
	if res := judge(2); res.Passed || !strings.Contains(res.Found, "12 answers, 2 different") {
		t.Errorf("two pods answering: %s", res.Sentence())
	}
	if res := judge(3); !res.Passed {
		t.Errorf("three pods answering: %s", res.Sentence())
	}
}

// One deadline per step: a check with the default wait keeps waiting as
// long as a sibling that waits longer (the flaky OOM-order step: the order
// check gave up at 60 s while the second kill, 120 s allowed, came later).
func TestChecksOfAStepShareItsDeadline(t *testing.T) {
	e := fakeEngine(deployment("web", 3, 1))
	specs := []Spec{
		mustSpec(t, "{type: deployment-available, name: web, replicas: 3, timeout: 300ms}"),
		mustSpec(t, "{type: pod-count, selector: app=nothing, count: 1, timeout: 3s}"),
	}
	go func() {
		time.Sleep(time.Second)
		if _, err := e.Dynamic.Resource(deploymentsGVR()).Namespace(ns).UpdateStatus(context.Background(), toUnstructured(t, deployment("web", 3, 3)), metav1.UpdateOptions{}); err != nil {
			t.Error(err)
		}
	}()
	res, err := e.Run(context.Background(), specs, Options{Wait: true})
	if err != nil {
		t.Fatal(err)
	}
	if !res[0].Passed {
		t.Errorf("the 300ms check gave up before its sibling's 3s deadline: %s", res[0].Sentence())
	}
	if res[1].Passed || res[1].Elapsed < 3*time.Second {
		t.Errorf("the 3s check: %s after %s", res[1].Sentence(), res[1].Elapsed)
	}
}

// What an author gets wrong in the new fields is said when the lab is read.
func TestExactChecksRefuseMistakes(t *testing.T) {
	for src, want := range map[string]string{
		"{type: object, kind: Pod, expr: 'quantty(objects[0].x) == 1'}":                                                          "undeclared reference to 'quantty'",
		"{type: object, kind: Pod, expr: 'size(pods) == 1'}":                                                                     "undeclared reference to 'pods'",
		"{type: object, kind: Pod, expr: 'size(objects) == 1', with: {object: {kind: Node, name: a}}}":                           `with: name "object" is a variable every expression has`,
		"{type: object, kind: Pod, expr: 'size(objects) == 1', with: {quantity: {kind: Node, name: a}}}":                         `with: name "quantity" is a CEL function`,
		"{type: object, kind: Pod, expr: 'size(objects) == 1', with: {nd: {kind: Node, nam: a}}}":                                `unknown field "nam"`,
		"{type: object, kind: Pod, expr: 'size(objects) == 1', with: {nd: {kind: Nod, name: a}}}":                                `with: nd: unknown kind "Nod"`,
		"{type: object, kind: Pod, namespace: Kube_System, count: 0}":                                                            `namespace "Kube_System"`,
		"{type: denied, reason: quota, manifest: \"apiVersion: v1\\nkind: Pod\\nmetadata: {name: a}\\nspec: {containerz: []}\"}": `manifest: Pod: unknown field "spec.containerz"`,
		"{type: denied, reason: quota, manifest: \"kind: Pod\\nmetadata: {name: a}\"}":                                           "manifest: every object needs apiVersion and kind",
		"{type: denied, manifest: \"apiVersion: v1\\nkind: Pod\\nmetadata: {name: a}\"}":                                         `field "reason" is required`,
		"{type: denied, reason: '(', manifest: \"apiVersion: v1\\nkind: Pod\\nmetadata: {name: a}\"}":                            `field "reason" is not a regular expression`,
		"{type: denied, verb: patch, reason: x, manifest: \"apiVersion: v1\\nkind: Pod\\nmetadata: {name: a}\"}":                 `field "verb" must be create, apply, delete`,
		"{type: logs, pod: web, match: '(hello'}":                                                                                `field "match" is not a regular expression`,
		"{type: logs, pod: web, match: hi, count: 2, min: 1}":                                                                    `set "count" or "min", not both`,
		"{type: http, service: web, distinct: 3, requests: 2}":                                                                   "2 requests cannot give 3 different answers",
		"{type: http, service: web, requests: 500}":                                                                              `field "requests" must be between 1 and 50`,
	} {
		_, err := ParseSpecs([]byte("- " + src))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("ParseSpecs(%s) = %v; want an error containing %q", src, err, want)
		}
	}
}

// The libraries docs/authoring.md names are there, as Kubernetes has them.
func TestCELLibraries(t *testing.T) {
	for _, src := range []string{
		"quantity('209715200').compareTo(quantity('200Mi')) == 0",
		"quantity('1Gi').isLessThan(quantity('1500Gi')) && quantity('1Gi').add(quantity('1Gi')).asInteger() == 2147483648",
		"isQuantity('200Mi') && !isQuantity('200MB!')",
		"[3, 1, 2].sum() == 6 && [3, 1, 2].min() == 1 && [1, 2, 3].isSorted() && [1, 2, 3].indexOf(2) == 1",
		"'abc 123'.find('[0-9]+') == '123' && 'a1b2'.findAll('[0-9]').size() == 2",
		"url('https://example.com:8443/x').getPort() == '8443'",
		"ip('10.0.0.1').family() == 4 && cidr('10.0.0.0/8').containsIP(ip('10.1.2.3'))",
		"format.dns1123Label().validate('web').hasValue() == false",
		"semver('1.34.4').isGreaterThan(semver('1.33.0'))",
		"'A,B'.lowerAscii().split(',').join('-') == 'a-b' && '%s=%d'.format(['x', 1]) == 'x=1'",
		"sets.contains([1, 2, 3], [2]) && {'a': 1}.all(k, v, v == 1)",
		"timestamp('2026-12-06T10:00:05Z') >= step.started",
	} {
		prg, err := compileCELProgram(src, nil, func(*cel.Type) bool { return true }, "anything")
		if err != nil {
			t.Errorf("%s: %v", src, err)
			continue
		}
		v, err := prg.eval(celInput{step: stepValue(&Baseline{Started: time.Date(2026, 12, 6, 10, 0, 0, 0, time.UTC)})})
		if err != nil || v != true {
			t.Errorf("%s = %v, %v; want true", src, v, err)
		}
	}
}

// Defect found running the OOM-order step ten times under load: a
// `restartPolicy: Never` pod whose container was OOM-killed is Failed, and
// terminated-reason looked only at live pods, so it passed only when the
// kubelet happened to report the termination before the pod's phase.
func TestTerminatedReasonOfAFinishedPod(t *testing.T) {
	killed := func(p *corev1.Pod) {
		p.Labels = map[string]string{"hog": "besteffort"}
		p.Status.Phase = corev1.PodFailed
		p.Status.ContainerStatuses[0].State = corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{Reason: "OOMKilled", ExitCode: 137}}
	}
	s := mustSpec(t, "{type: terminated-reason, selector: hog=besteffort, reason: OOMKilled}")
	if got := runOnce(t, s, nil, pod("hog-besteffort", "h", 0, killed)); !got.Passed {
		t.Errorf("a Failed pod whose container was OOM-killed: %s", got.Sentence())
	}
	running := pod("hog-besteffort", "h", 0, func(p *corev1.Pod) { p.Labels = map[string]string{"hog": "besteffort"} })
	if got := runOnce(t, s, nil, running); got.Passed || !strings.Contains(got.Found, "has terminated yet") {
		t.Errorf("a running hog: %s", got.Sentence())
	}
}

// A loop variable may not hide a variable: what the expression reads (each
// object, or the list once; the step's start) must be plain.
func TestLoopVariablesCannotHideVariables(t *testing.T) {
	for _, src := range []string{
		"{type: object, kind: Pod, expr: 'objects.all(object, object.metadata.name != \"\")'}",
		"{type: object, kind: Pod, expr: 'objects.exists(step, step.metadata.name == \"x\")'}",
		"{type: object, kind: Pod, with: {nd: {kind: Node, name: a}}, expr: 'objects.all(nd, size(nd.metadata.name) > 0)'}",
	} {
		_, err := ParseSpecs([]byte("- " + src))
		if err == nil || !strings.Contains(err.Error(), "names a loop variable") {
			t.Errorf("ParseSpecs(%s) = %v; want the loop variable refused", src, err)
		}
	}
}

// A logs check without `container` reads the pod's first container by name
// (the API server wants one when a pod has several), and an exact count
// fails while a selected pod's log could not be read.
func TestLogsReadsANamedContainerAndEveryPod(t *testing.T) {
	two := pod("web-a", "a", 0, func(p *corev1.Pod) {
		p.Spec.Containers = []corev1.Container{{Name: "app"}, {Name: "sidecar"}}
		p.Status.ContainerStatuses = []corev1.ContainerStatus{
			{Name: "app", State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{}}},
			{Name: "sidecar", State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{}}},
		}
	})
	var asked []string
	e := fakeEngine(two, pod("web-b", "b", 0))
	e.Prober = &fakeProber{logs: func(r LogsRequest) (string, error) {
		asked = append(asked, r.Pod+"/"+r.Container)
		if r.Pod == "web-b" {
			return "", errors.New("the kubelet did not answer")
		}
		return "ready\n", nil
	}}
	res := runWith(t, e, mustSpec(t, "{type: logs, selector: app=web, match: ready, count: 1}"))
	if res.Passed || !strings.Contains(res.Found, "pod web-b: the kubelet did not answer") {
		t.Errorf("one log unread, an exact count: %s", res.Sentence())
	}
	if !slices.Contains(asked, "web-a/app") || !slices.Contains(asked, "web-b/web") {
		t.Errorf("containers asked: %v; want each pod's first container by name", asked)
	}
}

// A pod that had already finished, or is being deleted, when the step
// began proves nothing about this step.
func TestTerminatedReasonIgnoresOldPods(t *testing.T) {
	killed := func(p *corev1.Pod) {
		p.Status.Phase = corev1.PodFailed
		p.Status.ContainerStatuses[0].State = corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{Reason: "OOMKilled", ExitCode: 137}}
	}
	old := pod("web-old", "old", 0, killed)
	b := NewBaseline([]*corev1.Pod{old}, nil)
	s := mustSpec(t, "{type: terminated-reason, selector: app=web, reason: OOMKilled}")
	if got := runOnce(t, s, b, old); got.Passed {
		t.Errorf("a pod killed before the step: %s", got.Sentence())
	}
	deleting := pod("web-del", "del", 0, killed, func(p *corev1.Pod) {
		now := metav1.Now()
		p.DeletionTimestamp, p.Finalizers = &now, []string{"labs/hold"}
	})
	if got := runOnce(t, s, b, deleting); got.Passed {
		t.Errorf("a pod being deleted: %s", got.Sentence())
	}
	if got := runOnce(t, s, b, pod("web-new", "new", 0, killed)); !got.Passed {
		t.Errorf("a pod killed during the step: %s", got.Sentence())
	}
}

// A with: name that matches objects in several namespaces is ambiguous.
func TestWithByNameInEveryNamespaceMustBeOne(t *testing.T) {
	s := mustSpec(t, `{type: object, kind: Deployment, name: web, with: {other: {kind: Deployment, name: web, namespace: "*"}}, expr: "other.spec.replicas == 1"}`)
	d2 := deployment("web", 1, 1)
	d2.Namespace = "elsewhere"
	got := runOnce(t, s, nil, deployment("web", 1, 1), d2)
	if got.Passed || !strings.Contains(got.Found, "2 objects are Deployment web (with: other), in namespaces elsewhere, lab: give its namespace") {
		t.Errorf("two of them: %s", got.Sentence())
	}
}
