package runner

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

const answerLab = "---\nid: demo\ntitle: Demo\nsummary: s\nnamespace: demo\n---\n" +
	"## Find its IP\n```check\n- {type: answer, question: the IP of pod web, truth: pod-ip, pod: web}\n```\n" +
	"```solve\necho 10.244.1.7 > \"$LAB_ANSWER_FILE\"\n```\n" +
	"## Next\n```check\n- {type: pod-count, selector: app=none, count: 1, timeout: 1s}\n```\n```solve\ntrue\n```\n"

// labs answer keeps the answer for the step and checks it: a wrong one is
// said to be wrong without the truth, the right one passes and the next
// step starts without an answer. labs solve gives the solution's answer.
func TestAnswerFlow(t *testing.T) {
	r, out := startLab(t, answerLab)
	ctx := context.Background()
	web := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "demo"}, Spec: corev1.PodSpec{NodeName: "n1", Containers: []corev1.Container{{Name: "app"}}},
		Status: corev1.PodStatus{Phase: corev1.PodRunning, PodIP: "10.244.1.7", ContainerStatuses: []corev1.ContainerStatus{{Name: "app", ContainerID: "containerd://abc", State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{}}}}}}
	createObject(t, r, web)

	out.Reset()
	if err := r.Check(ctx, CheckOptions{}); !errors.Is(err, ErrChecksFailed) || !strings.Contains(out.String(), "no answer yet") {
		t.Fatalf("check without an answer: %v\n%s", err, out)
	}
	out.Reset()
	if err := r.Answer(ctx, "10.0.0.1", CheckOptions{}); !errors.Is(err, ErrChecksFailed) || !strings.Contains(out.String(), "your answer 10.0.0.1 is not it") || strings.Contains(out.String(), "10.244.1.7") {
		t.Fatalf("wrong answer: %v\n%s", err, out)
	}
	if err := r.Solve(ctx); err != nil {
		t.Fatal(err)
	}
	if p, _ := r.store().Load(context.Background(), "demo"); p.Answer != "10.244.1.7" {
		t.Fatalf("the solution's answer was not kept: %q", p.Answer)
	}
	out.Reset()
	if err := r.Answer(ctx, "10.244.1.7", CheckOptions{}); err != nil || !strings.Contains(out.String(), "✓ your answer: the IP of pod web") {
		t.Fatalf("right answer: %v\n%s", err, out)
	}
	if p, _ := r.store().Load(context.Background(), "demo"); p.Step != 1 || p.Answer != "" {
		t.Fatalf("after the right answer: step %d, answer %q", p.Step, p.Answer)
	}
	if err := r.Answer(ctx, "42", CheckOptions{}); err == nil || !strings.Contains(err.Error(), "step 2 asks no question") {
		t.Fatalf("answer on a step without a question: %v", err)
	}
}

// labs node shell without a name goes to the node of the pod the learner
// made last.
func TestNodeShellGoesWhereThePodRuns(t *testing.T) {
	r, _ := startLab(t, answerLab)
	c, _ := r.client()
	ctx := context.Background()
	for i, node := range []string{"labs-test-worker", "labs-test-worker2"} {
		p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprint("p", i), Namespace: "demo", CreationTimestamp: metav1.NewTime(time.Unix(int64(1000+i), 0))},
			Spec: corev1.PodSpec{NodeName: node}, Status: corev1.PodStatus{Phase: corev1.PodRunning}}
		if _, err := c.CoreV1().Pods("demo").Create(ctx, p, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	if got := r.nodeOfInterest(ctx); got != "labs-test-worker2" {
		t.Errorf("nodeOfInterest = %q, want labs-test-worker2 (the newest pod's)", got)
	}
}
