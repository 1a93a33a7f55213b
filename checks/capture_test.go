package checks

import (
	"reflect"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
)

func worker(name string, unschedulable bool) *corev1.Node {
	n := node(name, unschedulable)
	n.Labels = map[string]string{"kubernetes.io/hostname": name}
	return n
}

// A capture names what the learner chose: nothing while the check fails,
// the chosen node once it passes, whichever worker that is.
func TestCaptureNamesTheLearnersChoice(t *testing.T) {
	s := mustSpec(t, `{type: object, kind: Node, selector: "kubernetes.io/hostname",
  expr: "objects.filter(n, n.spec.?unschedulable.orValue(false)).size() == 1",
  capture: {CORDONED: "objects.filter(n, n.spec.?unschedulable.orValue(false))[0].metadata.name",
            COUNT: "size(objects)"}}`)
	if got := CapturesOf(s); !reflect.DeepEqual(got, []string{"CORDONED", "COUNT"}) {
		t.Fatalf("CapturesOf = %v", got)
	}
	wrong := runOnce(t, s, nil, worker("w1", false), worker("w2", false))
	if wrong.Passed || wrong.Captured != nil {
		t.Fatalf("nothing cordoned: passed=%v captured=%v", wrong.Passed, wrong.Captured)
	}
	for _, chosen := range []string{"w1", "w2"} {
		objs := []runtime.Object{worker("w1", chosen == "w1"), worker("w2", chosen == "w2")}
		got := runOnce(t, s, nil, objs...)
		if !got.Passed {
			t.Fatalf("%s cordoned: %s", chosen, got.Sentence())
		}
		if want := map[string]string{"CORDONED": chosen, "COUNT": "2"}; !reflect.DeepEqual(got.Captured, want) {
			t.Errorf("%s cordoned: captured %v, want %v", chosen, got.Captured, want)
		}
	}
}

// A per-object capture reads the first selected object that satisfies the
// check; a capture that cannot be computed keeps the check from passing.
func TestCaptureOfOneObjectAndItsFailure(t *testing.T) {
	s := mustSpec(t, `{type: object, kind: Node, selector: "kubernetes.io/hostname", count: 1,
  match: {spec: {unschedulable: true}}, capture: {NODE: "object.metadata.name"}}`)
	got := runOnce(t, s, nil, worker("w1", false), worker("w2", true))
	if !got.Passed || got.Captured["NODE"] != "w2" {
		t.Fatalf("got passed=%v captured=%v (%s)", got.Passed, got.Captured, got.Sentence())
	}
	bad := mustSpec(t, `{type: object, kind: Node, name: w1, capture: {ZONE: "object.metadata.labels['zone']"}}`)
	res := runOnce(t, bad, nil, worker("w1", false))
	if res.Passed || !strings.Contains(res.Found, "capture ZONE") || !strings.Contains(res.Found, "not computable") {
		t.Fatalf("uncomputable capture: passed=%v found %q", res.Passed, res.Found)
	}
}

func TestCaptureSpecErrors(t *testing.T) {
	for _, tc := range []struct{ name, src, want string }{
		{"lower-case name", "- {type: object, kind: Node, name: x, capture: {node: 'object.metadata.name'}}", `capture name "node" must be upper-case`},
		{"reserved prefix", "- {type: object, kind: Node, name: x, capture: {LAB_NODE: 'object.metadata.name'}}", "not starting with LAB_"},
		{"does not compile", "- {type: object, kind: Node, name: x, capture: {NODE: 'object.'}}", "capture NODE"},
		{"a list", "- {type: object, kind: Node, name: x, capture: {NODES: 'objects'}}", "it must give a string or a number"},
	} {
		if _, err := ParseSpecs([]byte(tc.src)); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: ParseSpecs = %v, want an error containing %q", tc.name, err, tc.want)
		}
	}
}

func TestVarRefs(t *testing.T) {
	got := VarRefs("drain ${CORDONED} then ${LAB_WORKER_1}, not ${i} or $HOME; ${CORDONED} again")
	if want := []string{"CORDONED", "LAB_WORKER_1"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("VarRefs = %v, want %v", got, want)
	}
}
