package runner

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes/fake"
	"k8s.io/client-go/tools/cache"
)

func testEvent(name, typ, reason string, count int32, at time.Time) *corev1.Event {
	return &corev1.Event{
		ObjectMeta:     metav1.ObjectMeta{Name: name, Namespace: "lab", UID: types.UID("uid-" + name)},
		InvolvedObject: corev1.ObjectReference{Kind: "Pod", Name: "web-1"},
		Type:           typ, Reason: reason, Message: reason + " happened", Count: count,
		LastTimestamp: metav1.NewTime(at),
	}
}

// Past events come first, oldest first and only the most recent ones; then
// each new event and each repeat, once.
func TestStreamEvents(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 10, 0, 0, 0, time.UTC)
	c := fake.NewSimpleClientset(
		testEvent("c", "Normal", "Pulled", 1, t0.Add(3*time.Second)),
		testEvent("a", "Normal", "Scheduled", 1, t0.Add(1*time.Second)),
		testEvent("b", "Warning", "BackOff", 1, t0.Add(2*time.Second)),
	)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var mu sync.Mutex
	var got []string
	done := make(chan error, 1)
	go func() {
		done <- streamEvents(ctx, c, EventsOptions{Namespace: "lab", Recent: 2}, func(l EventLine) {
			mu.Lock()
			got = append(got, l.Reason+"/"+string(rune('0'+l.Count)))
			mu.Unlock()
		})
	}()
	waitFor := func(n int) []string {
		t.Helper()
		deadline := time.Now().Add(5 * time.Second)
		for time.Now().Before(deadline) {
			mu.Lock()
			g := append([]string{}, got...)
			mu.Unlock()
			if len(g) >= n {
				return g
			}
			time.Sleep(10 * time.Millisecond)
		}
		t.Fatalf("only %v after 5s, want %d events", got, n)
		return nil
	}
	if g := waitFor(2); strings.Join(g, " ") != "BackOff/1 Pulled/1" {
		t.Fatalf("backlog = %v, want the 2 most recent, oldest first", g)
	}
	ev := testEvent("d", "Warning", "Unhealthy", 1, t0.Add(4*time.Second))
	c.CoreV1().Events("lab").Create(ctx, ev, metav1.CreateOptions{})
	waitFor(3)
	ev.Count = 2
	c.CoreV1().Events("lab").Update(ctx, ev, metav1.UpdateOptions{})
	ev.Message = "same count, other text"
	c.CoreV1().Events("lab").Update(ctx, ev, metav1.UpdateOptions{})
	time.Sleep(200 * time.Millisecond)
	if g := waitFor(4); strings.Join(g, " ") != "BackOff/1 Pulled/1 Unhealthy/1 Unhealthy/2" {
		t.Fatalf("stream = %v", g)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	line := eventLine(testEvent("x", "Warning", "OOMKilling", 3, t0)).String(true)
	if !strings.Contains(line, "lab  Warning  OOMKilling  Pod/web-1  OOMKilling happened (x3)") {
		t.Fatalf("line = %q", line)
	}
}

// An OOM kill, which Kubernetes writes only into the pod's status, is shown
// as a Warning line once per kill.
func TestOOMKillsFromPodStatus(t *testing.T) {
	fin := metav1.NewTime(time.Date(2026, 1, 1, 10, 0, 0, 0, time.UTC))
	p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "hog-1", Namespace: "lab", UID: "u"}, Status: corev1.PodStatus{ContainerStatuses: []corev1.ContainerStatus{
		{Name: "hog", RestartCount: 2, LastTerminationState: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{Reason: "OOMKilled", ExitCode: 137, FinishedAt: fin}}},
		{Name: "side", LastTerminationState: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{Reason: "Error", ExitCode: 1, FinishedAt: fin}}},
	}}}
	got := oomKills(p)
	if len(got) != 1 {
		t.Fatalf("oomKills = %v, want the hog container only", got)
	}
	for _, l := range got {
		if !l.Warning() || l.Reason != "OOMKilled" || !strings.Contains(l.String(false), "Pod/hog-1  container hog was killed for memory (exit code 137, restarts 2") {
			t.Fatalf("line = %q", l.String(false))
		}
	}
}

// The events stream keeps pods reduced to their container statuses; an OOM
// kill reads the same from the reduced pod as from the whole one.
func TestTerminationsOnlyKeepsOOMKills(t *testing.T) {
	fin := metav1.NewTime(time.Date(2026, 1, 1, 10, 0, 0, 0, time.UTC))
	p := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "hog-1", Namespace: "lab", UID: "u", Labels: map[string]string{"app": "hog"},
			ManagedFields: []metav1.ManagedFieldsEntry{{Manager: "kubectl"}}},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "hog", Image: "labapp:v1"}}},
		Status: corev1.PodStatus{Phase: corev1.PodRunning, ContainerStatuses: []corev1.ContainerStatus{
			{Name: "hog", RestartCount: 1, LastTerminationState: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{Reason: "OOMKilled", ExitCode: 137, FinishedAt: fin}}},
		}},
	}
	want := oomKills(p)
	obj, err := terminationsOnly(p)
	if err != nil {
		t.Fatal(err)
	}
	lean := obj.(*corev1.Pod)
	if len(lean.Spec.Containers) != 0 || lean.Labels != nil || lean.ManagedFields != nil {
		t.Fatalf("reduced pod still holds its spec, labels or managed fields: %+v", lean)
	}
	got := oomKills(lean)
	if len(want) != 1 || len(got) != len(want) {
		t.Fatalf("oomKills of the reduced pod = %v, of the whole pod = %v", got, want)
	}
	for k, l := range want {
		if got[k] != l {
			t.Fatalf("oomKills[%s] = %+v, want %+v", k, got[k], l)
		}
	}
	if tomb := (cache.DeletedFinalStateUnknown{Key: "lab/hog-1"}); mustTransform(t, terminationsOnly, tomb) != tomb {
		t.Fatal("a tombstone must pass unchanged")
	}
}

func mustTransform(t *testing.T, f cache.TransformFunc, obj any) any {
	t.Helper()
	out, err := f(obj)
	if err != nil {
		t.Fatal(err)
	}
	return out
}
