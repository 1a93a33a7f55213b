package runner

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"
)

// systemPod is a kube-system pod on node, Ready or not, whose container
// started at started; rs names its ReplicaSet ("" for none).
func systemPod(name, node, rs string, ready bool, started time.Time) *corev1.Pod {
	p := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: metav1.NamespaceSystem},
		Spec:       corev1.PodSpec{NodeName: node},
		Status: corev1.PodStatus{
			Phase:             corev1.PodRunning,
			Conditions:        []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionFalse}},
			ContainerStatuses: []corev1.ContainerStatus{{Name: "c", State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: metav1.NewTime(started)}}}},
		},
	}
	if ready {
		p.Status.Conditions[0].Status = corev1.ConditionTrue
	}
	if rs != "" {
		yes := true
		p.OwnerReferences = []metav1.OwnerReference{{Kind: "ReplicaSet", Name: rs, Controller: &yes}}
	}
	return p
}

// Right after a resume the API server shows the pods as they were before
// the stop, all Ready: that must not count. A pod counts once its
// containers started after its node did; a paused node's pods never
// restart, so Ready is enough there; one Ready CoreDNS replica serves.
func TestWaitSystemPodsSeesThroughStaleStatuses(t *testing.T) {
	nodeStart := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
	before, after := nodeStart.Add(-time.Hour), nodeStart.Add(5*time.Second)
	client := fake.NewSimpleClientset(
		systemPod("kube-proxy-a", "n-restarted", "", true, before), // stale
		systemPod("kube-proxy-b", "n-paused", "", true, before),    // unpaused: still the same container
		systemPod("coredns-1", "n-restarted", "coredns-rs", true, before),
		systemPod("coredns-2", "n-paused", "coredns-rs", false, before),
	)
	r, _, _ := newTestRunner(t, client, fakeDocker{})
	restarted := map[string]time.Time{"n-restarted": nodeStart}
	done := make(chan error, 1)
	go func() { done <- r.waitSystemPods(context.Background(), client, restarted, 20*time.Second) }()
	select {
	case err := <-done:
		t.Fatalf("waitSystemPods returned %v on stale statuses", err)
	case <-time.After(500 * time.Millisecond):
	}
	// kube-proxy on the restarted node runs again; CoreDNS there does too.
	for _, p := range []*corev1.Pod{systemPod("kube-proxy-a", "n-restarted", "", true, after), systemPod("coredns-1", "n-restarted", "coredns-rs", true, after)} {
		if _, err := client.CoreV1().Pods(metav1.NamespaceSystem).UpdateStatus(context.Background(), p, metav1.UpdateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("waitSystemPods did not see the pods come back")
	}
	errOut := r.ErrOut.(interface{ String() string }).String()
	if !strings.Contains(errOut, "waiting for a pod of coredns-rs, kube-proxy-a") {
		t.Errorf("progress does not name what it waits for:\n%s", errOut)
	}
}

// After `labs down` and `labs start`, the learner's progress is kept: the
// namespace is rebuilt from the reference solutions of the done steps, and
// a solution that fails makes its step the current one.
func TestStartRestoresARebuiltCluster(t *testing.T) {
	for _, tc := range []struct {
		name     string
		solve1   string
		wantStep int
		wantSays string
	}{
		{"solutions replay", "echo restoring", 3, "restored: you are at step 3 of 3"},
		{"a solution fails", "exit 3", 1, "step 1 could not be restored"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			client := fake.NewSimpleClientset(readyNode())
			r, _, out := newTestRunner(t, client, fakeDocker{})
			lab := strings.Replace(threeSteps, "SOLVE1", tc.solve1, 1)
			path := filepath.Join(t.TempDir(), "three.md")
			if err := os.WriteFile(path, []byte(lab), 0o600); err != nil {
				t.Fatal(err)
			}
			writeProgress(t, r, "three", `{"step":2,"done":[true,true,false]}`)
			if err := r.Start(context.Background(), path); err != nil {
				t.Fatal(err)
			}
			p, _ := r.store().Load(context.Background(), "three")
			if p.Step != tc.wantStep-1 || !p.Done[0] || !p.Done[1] {
				t.Errorf("progress after the rebuild = %+v, want step %d with steps 1-2 done", p, tc.wantStep)
			}
			errOut := r.ErrOut.(interface{ String() string }).String()
			if !strings.Contains(errOut, "namespace three is not on this cluster (it was rebuilt): restoring three up to step 3 (2 of 3 steps done)") || !strings.Contains(errOut, tc.wantSays) {
				t.Errorf("start says:\n%s", errOut)
			}
			if !strings.Contains(out.String(), "Step "+string(rune('0'+tc.wantStep))+"/3") {
				t.Errorf("start shows:\n%s", out)
			}
		})
	}
}

const threeSteps = "---\nid: three\ntitle: Three\nsummary: s\nnamespace: three\n---\n" +
	"## One\n```check\n- {type: pod-count, selector: app=a, count: 1, timeout: 1s}\n```\n```solve\nSOLVE1\n```\n" +
	"## Two\n```check\n- {type: pod-count, selector: app=b, count: 1, timeout: 1s}\n```\n```solve\ntrue\n```\n" +
	"## Three\n```check\n- {type: pod-count, selector: app=c, count: 1, timeout: 1s}\n```\n```solve\ntrue\n```\n"
