package runner

import (
	"context"
	"sync"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"
)

// watchRecorder keeps what Watch sends, for waiting on it.
type watchRecorder struct {
	mu   sync.Mutex
	msgs []any
}

func (w *watchRecorder) send(m any) { w.mu.Lock(); w.msgs = append(w.msgs, m); w.mu.Unlock() }

func (w *watchRecorder) waitFor(t *testing.T, what string, ok func(any) bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		w.mu.Lock()
		for _, m := range w.msgs {
			if ok(m) {
				w.mu.Unlock()
				return
			}
		}
		w.mu.Unlock()
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("no %s within 10s; got %#v", what, w.msgs)
}

// The step's checks follow the cluster without `labs check`: failing,
// then, when the Deployment appears, passing; the step is recorded as
// labs check records it and the next step is shown. A key asks for the
// hint. The cluster is never changed by watching.
func TestWatchAdvancesWhenChecksPass(t *testing.T) {
	client := fake.NewSimpleClientset(readyNode())
	r, _, _ := newTestRunner(t, client, fakeDocker{})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if err := r.Start(ctx, "demo"); err != nil {
		t.Fatal(err)
	}
	rec := &watchRecorder{}
	actions := make(chan WatchAction, 1)
	done := make(chan error, 1)
	go func() { done <- r.Watch(ctx, rec.send, actions) }()

	rec.waitFor(t, "step 1", func(m any) bool { s, ok := m.(WatchStep); return ok && s.Step == 1 && s.Title == "Scale" })
	rec.waitFor(t, "a failing check", func(m any) bool {
		c, ok := m.(WatchChecks)
		return ok && c.Step == 1 && len(c.Checks) == 1 && !c.Checks[0].Passed && c.Checks[0].Found == "no Deployment web in namespace demo"
	})
	actions <- ActHint
	rec.waitFor(t, "the hint", func(m any) bool { _, ok := m.(WatchHint); return ok })

	two := int32(2)
	createObject(t, r, &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "demo"}, Spec: appsv1.DeploymentSpec{Replicas: &two}, Status: appsv1.DeploymentStatus{AvailableReplicas: 2}})
	rec.waitFor(t, "the check passing", func(m any) bool { c, ok := m.(WatchChecks); return ok && c.Step == 1 && c.Checks[0].Passed })
	rec.waitFor(t, "step 1 done", func(m any) bool { d, ok := m.(WatchDone); return ok && d.Step == 1 && !d.Complete })
	rec.waitFor(t, "step 2", func(m any) bool { s, ok := m.(WatchStep); return ok && s.Step == 2 })
	if p, _ := r.store().Load(context.Background(), "demo"); p.Step != 1 || !p.Done[0] {
		t.Fatalf("progress after the watch passed step 1: %+v", p)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	for _, a := range client.Actions() {
		if v := a.GetVerb(); v != "get" && v != "list" && v != "watch" && a.GetResource().Resource != "namespaces" {
			t.Errorf("watching changed the cluster: %s %s", v, a.GetResource().Resource)
		}
	}
}
