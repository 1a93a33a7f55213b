package checks

import (
	"context"
	"errors"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	"k8s.io/apimachinery/pkg/api/meta/testrestmapper"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/dynamic/fake"
	"k8s.io/client-go/kubernetes/scheme"
)

// One judge, one informer per kind, many namespaces: each namespace is
// judged on its own objects; a change wakes the judge and names the
// namespace; a check the judge cannot run says so instead of a verdict.
func TestJudgeEvaluatesEachNamespaceOnItsOwn(t *testing.T) {
	dep := func(ns string, avail int32) *appsv1.Deployment {
		return &appsv1.Deployment{
			ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: ns},
			Spec:       appsv1.DeploymentSpec{Replicas: ptr(int32(3))},
			Status:     appsv1.DeploymentStatus{AvailableReplicas: avail, ReadyReplicas: avail, Replicas: 3},
		}
	}
	dyn := fake.NewSimpleDynamicClient(fakeScheme(), dep("c-ana", 3), dep("c-bo", 1))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	j := NewJudge(ctx, dyn, testrestmapper.TestOnlyStaticRESTMapper(scheme.Scheme))
	specs, err := ParseSpecs([]byte("- type: deployment-available\n  name: web\n  replicas: 3\n- type: http\n  service: web\n  path: /\n"))
	if err != nil {
		t.Fatal(err)
	}
	for ns, want := range map[string]bool{"c-ana": true, "c-bo": false, "c-cy": false} {
		res, err := j.Evaluate(ctx, ns, specs, nil, "", 10*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		if res[0].Passed != want || res[0].Err != nil {
			t.Errorf("%s: %+v, want passed=%v", ns, res[0], want)
		}
		if !errors.Is(res[1].Err, ErrNotJudged) || res[1].Passed {
			t.Errorf("%s: the http check = %+v, want ErrNotJudged", ns, res[1])
		}
	}
	j.Dirty()
	woke := j.Changed()
	u := toUnstructured(t, dep("c-bo", 3))
	if _, err := dyn.Resource(appsv1.SchemeGroupVersion.WithResource("deployments")).Namespace("c-bo").UpdateStatus(ctx, u, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	select {
	case <-woke:
	case <-time.After(5 * time.Second):
		t.Fatal("no wake after a change")
	}
	if d := j.Dirty(); !d["c-bo"] || d["c-ana"] {
		t.Errorf("dirty = %v, want c-bo only", d)
	}
	res, err := j.Evaluate(ctx, "c-bo", specs, nil, "", 10*time.Second)
	if err != nil || !res[0].Passed {
		t.Fatalf("c-bo after its rollout: %+v %v", res, err)
	}
}
