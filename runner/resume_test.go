package runner

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/fake"
	"k8s.io/client-go/rest"
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
	done := waitInBackground(t, "waitSystemPods on stale statuses", func() error {
		return r.waitSystemPods(context.Background(), client, restarted, 20*time.Second)
	})
	// kube-proxy on the restarted node runs again; CoreDNS there does too.
	for _, p := range []*corev1.Pod{systemPod("kube-proxy-a", "n-restarted", "", true, after), systemPod("coredns-1", "n-restarted", "coredns-rs", true, after)} {
		if _, err := client.CoreV1().Pods(metav1.NamespaceSystem).UpdateStatus(context.Background(), p, metav1.UpdateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	done("waitSystemPods did not see the pods come back")
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

// labs start after a resume does not wait for the system pods; the first
// command that checks does (settle), once: it waits while a restarted
// node's pods show their stale statuses, returns when they run again, and
// removes the record so the next command does not wait. A damaged record
// is dropped without waiting.
func TestSettleWaitsOnceAfterAResume(t *testing.T) {
	nodeStart := time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)
	client := fake.NewSimpleClientset(readyNode(), systemPod("kube-proxy-a", "n1", "", true, nodeStart.Add(-time.Hour)))
	r, _, _ := newTestRunner(t, client, fakeDocker{})
	ctx := context.Background()
	if err := r.settle(ctx, client); err != nil {
		t.Fatalf("settle without a resume = %v", err)
	}
	if err := r.noteStarting(map[string]time.Time{"n1": nodeStart}, false); err != nil {
		t.Fatal(err)
	}
	done := waitInBackground(t, "settle while kube-proxy showed its status from before the stop", func() error { return r.settle(ctx, client) })
	if _, err := client.CoreV1().Pods(metav1.NamespaceSystem).UpdateStatus(ctx, systemPod("kube-proxy-a", "n1", "", true, nodeStart.Add(3*time.Second)), metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	done("settle did not see kube-proxy run again")
	if _, err := os.Stat(r.Paths.resumedRecord()); !os.IsNotExist(err) {
		t.Fatalf("the resume record is still there after settle: %v", err)
	}
	if !strings.Contains(r.ErrOut.(interface{ String() string }).String(), "waiting for its system pods") {
		t.Error("settle did not say what it waits for")
	}

	if err := os.WriteFile(r.Paths.resumedRecord(), []byte("{not json"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := r.settle(ctx, client); err != nil {
		t.Fatalf("settle with a damaged record = %v", err)
	}
	if _, err := os.Stat(r.Paths.resumedRecord()); !os.IsNotExist(err) {
		t.Fatal("the damaged record was kept")
	}
}

// A new cluster: labs start shows the step before the nodes are Ready,
// so the first command that checks waits for the node to be Ready and its
// system pods to run, saying the cluster is new.
func TestSettleWaitsForANewClustersNodes(t *testing.T) {
	notReady := readyNode()
	notReady.Status.Conditions[0].Status = corev1.ConditionFalse
	client := fake.NewSimpleClientset(notReady, systemPod("kindnet-a", "n1", "", false, time.Time{}))
	r, _, _ := newTestRunner(t, client, fakeDocker{})
	ctx := context.Background()
	if err := r.noteStarting(map[string]time.Time{"n1": {}}, true); err != nil {
		t.Fatal(err)
	}
	done := waitInBackground(t, "settle while the node was not Ready", func() error { return r.settle(ctx, client) })
	if _, err := client.CoreV1().Nodes().UpdateStatus(ctx, readyNode(), metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond)
	if _, err := os.Stat(r.Paths.resumedRecord()); err != nil {
		t.Fatalf("settle ended with the node Ready but its network pod not running: %v", err)
	}
	if _, err := client.CoreV1().Pods(metav1.NamespaceSystem).UpdateStatus(ctx, systemPod("kindnet-a", "n1", "", true, time.Now()), metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	done("settle did not see the node Ready and kindnet run")
	if !strings.Contains(r.ErrOut.(interface{ String() string }).String(), "the cluster is new: waiting for its nodes") {
		t.Error("settle did not say what it waits for")
	}
}

// waitInBackground starts wait, which must still be waiting after half a
// second (what names it); the function it returns then expects wait to
// return nil within 10 s, failing with msg if it does not.
func waitInBackground(t *testing.T, what string, wait func() error) func(msg string) {
	t.Helper()
	ch := make(chan error, 1)
	go func() { ch <- wait() }()
	select {
	case err := <-ch:
		t.Fatalf("%s returned %v; it should wait", what, err)
	case <-time.After(500 * time.Millisecond):
	}
	return func(msg string) {
		t.Helper()
		select {
		case err := <-ch:
			if err != nil {
				t.Fatal(err)
			}
		case <-time.After(10 * time.Second):
			t.Fatal(msg)
		}
	}
}

// A new cluster's nodes are not Ready when labs start shows the step, nor
// at a second start moments later: neither waits for them (the first check
// does). Without the record a start waits, as before.
func TestStartDoesNotWaitForANewClustersNodes(t *testing.T) {
	notReady := readyNode()
	notReady.Status.Conditions[0].Status = corev1.ConditionFalse
	client := fake.NewSimpleClientset(notReady)
	r, _, _ := newTestRunner(t, client, fakeDocker{})
	for _, what := range []string{"the start that creates the cluster", "a second start"} {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		err := r.Start(ctx, "demo")
		cancel()
		if err != nil {
			t.Fatalf("%s with the nodes not Ready: %v", what, err)
		}
	}
	if err := os.Remove(r.Paths.resumedRecord()); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if err := r.Start(ctx, "demo"); err == nil {
		t.Fatal("a start with no record did not wait for the nodes to be Ready")
	}
}

// After a resume the API server serves its admin seconds before /readyz
// is ok: labs waits for the former. Forbidden (its authorizer still
// loading) and server errors are not serving yet; a namespace not found is.
func TestAPIServes(t *testing.T) {
	for code, serves := range map[int]bool{200: true, 404: true, 403: false, 500: false, 503: false} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
			if req.URL.Path != "/api/v1/namespaces/kube-system" {
				http.Error(w, "unexpected "+req.URL.Path, http.StatusTeapot)
				return
			}
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(code)
			if code == 200 {
				fmt.Fprint(w, `{"kind":"Namespace","apiVersion":"v1","metadata":{"name":"kube-system"}}`)
				return
			}
			fmt.Fprintf(w, `{"kind":"Status","apiVersion":"v1","status":"Failure","code":%d}`, code)
		}))
		c, err := kubernetes.NewForConfig(&rest.Config{Host: srv.URL})
		if err != nil {
			t.Fatal(err)
		}
		r, _, _ := newTestRunner(t, fake.NewSimpleClientset(), fakeDocker{})
		err = r.apiServes(context.Background(), c, 2*time.Second)
		srv.Close()
		if (err == nil) != serves {
			t.Errorf("HTTP %d: apiServes = %v, want serving %v", code, err, serves)
		}
	}
}

// The resume is recorded as soon as the nodes start: a start interrupted
// after that (Ctrl-C while the API server comes up) leaves the nodes
// running, and the next start or check still knows their pods restart. A
// record nobody waited for yet is merged, not replaced.
func TestResumeRecordsAtOnce(t *testing.T) {
	r, cl, _ := newTestRunner(t, fake.NewSimpleClientset(readyNode()), fakeDocker{})
	ctx := context.Background()
	if err := cl.Create(ctx, "node:test"); err != nil {
		t.Fatal(err)
	}
	if err := r.noteStarting(map[string]time.Time{"labs-test-worker": {}}, true); err != nil {
		t.Fatal(err)
	}
	if err := cl.StopNodes(ctx, 0); err != nil {
		t.Fatal(err)
	}
	nodes, _ := cl.Nodes(ctx)
	if _, _, err := r.resume(ctx, nodes); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(r.Paths.resumedRecord())
	if err != nil {
		t.Fatalf("no record right after the nodes started: %v", err)
	}
	var rec resumed
	if err := json.Unmarshal(b, &rec); err != nil {
		t.Fatal(err)
	}
	if _, ok := rec.Nodes[fakeNode]; !ok || !rec.Created || len(rec.Nodes) != 2 {
		t.Errorf("record after a resume of a cluster just created = %s; want both nodes, created kept", b)
	}
}

// Right after a resume the API server answers /readyz with 500 for a few
// seconds while its last post-start hooks run: a command waits that out
// (up to its limit) instead of calling the cluster unreachable; a server
// that does not answer at all fails at once.
func TestReachableWaitsForReadyz(t *testing.T) {
	var asked atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if req.URL.Path != "/readyz" {
			http.Error(w, "unexpected "+req.URL.Path, http.StatusTeapot)
			return
		}
		n := asked.Add(1)
		if n == -2000 {
			http.Error(w, `{"kind":"Status","apiVersion":"v1","status":"Failure","code":403}`, http.StatusForbidden)
			return
		}
		if n <= 3 {
			http.Error(w, "[+]ping ok\n[-]poststarthook/rbac/bootstrap-roles failed: reason withheld\nreadyz check failed", http.StatusInternalServerError)
			return
		}
		fmt.Fprint(w, "ok")
	}))
	defer srv.Close()
	c, err := kubernetes.NewForConfig(&rest.Config{Host: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	r, _, _ := newTestRunner(t, fake.NewSimpleClientset(), fakeDocker{})
	ctx := context.Background()
	if err := r.reachable(ctx, c, 5*time.Second); err != nil || asked.Load() != 4 {
		t.Fatalf("reachable while /readyz said 500 three times = %v after %d asks; want nil after 4", err, asked.Load())
	}

	asked.Store(-1000) // 500 from now on
	start := time.Now()
	if err := r.reachable(ctx, c, time.Second); !errors.Is(err, ErrUnreachable) || time.Since(start) < time.Second || time.Since(start) > 2*time.Second {
		t.Errorf("reachable with /readyz always 500 = %v after %s; want ErrUnreachable after 1s", err, time.Since(start))
	}

	// A refusal (403: credentials /readyz does not accept) is not waited
	// out: waiting does not change it.
	asked.Store(-2001)
	start = time.Now()
	if err := r.reachable(ctx, c, 5*time.Second); !errors.Is(err, ErrUnreachable) || asked.Load() != -2000 || time.Since(start) > 2*time.Second {
		t.Errorf("reachable refused with 403 = %v after %s and %d asks; want ErrUnreachable at once, one ask", err, time.Since(start), asked.Load()+2001)
	}

	srv.Close()
	start = time.Now()
	if err := r.reachable(ctx, c, 5*time.Second); !errors.Is(err, ErrUnreachable) || time.Since(start) > 2*time.Second {
		t.Errorf("reachable with nothing listening = %v after %s; want ErrUnreachable at once", err, time.Since(start))
	}
}

// Two commands at once: a labs stop and start in another terminal record a
// newer resume while a check waits on the old one; the check's settle
// leaves that record for the next command.
func TestSettleKeepsANewerRecord(t *testing.T) {
	nodeStart := time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)
	client := fake.NewSimpleClientset(readyNode(), systemPod("kube-proxy-a", "n1", "", true, nodeStart.Add(-time.Hour)))
	r, _, _ := newTestRunner(t, client, fakeDocker{})
	ctx := context.Background()
	if err := r.noteStarting(map[string]time.Time{"n1": nodeStart}, false); err != nil {
		t.Fatal(err)
	}
	done := waitInBackground(t, "settle while kube-proxy showed its status from before the stop", func() error { return r.settle(ctx, client) })
	later := nodeStart.Add(time.Minute)
	if err := r.noteStarting(map[string]time.Time{"n1": later}, false); err != nil {
		t.Fatal(err)
	}
	if _, err := client.CoreV1().Pods(metav1.NamespaceSystem).UpdateStatus(ctx, systemPod("kube-proxy-a", "n1", "", true, nodeStart.Add(3*time.Second)), metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	done("settle did not see kube-proxy run again")
	rec, _, ok := r.readResumed()
	if !ok || !rec.Nodes["n1"].Equal(later) {
		t.Fatalf("after settle the newer record = %+v (ok %v); want n1 started at %s", rec, ok, later)
	}
}

// Nodes started by a resume become Ready only as their network plugin
// comes back: labs start shows the step without waiting for them, and the
// first command that checks (settle) waits instead. A running cluster's
// NotReady nodes are waited for at start, as before.
func TestStartDoesNotWaitForResumedNodes(t *testing.T) {
	notReady := readyNode()
	notReady.Status.Conditions[0].Status = corev1.ConditionFalse
	client := fake.NewSimpleClientset(notReady)
	r, cl, out := newTestRunner(t, client, fakeDocker{})
	bg := context.Background()
	if err := cl.Create(bg, "node:test"); err != nil {
		t.Fatal(err)
	}
	if err := cl.StopNodes(bg, 0); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(bg, 5*time.Second)
	defer cancel()
	if err := r.Start(ctx, "demo"); err != nil {
		t.Fatalf("a resume with the nodes not yet Ready: %v", err)
	}
	if errOut := r.ErrOut.(interface{ String() string }).String(); !strings.Contains(errOut, "the nodes and system pods (DNS, network) are still starting after the resume") {
		t.Errorf("start says:\n%s", errOut)
	}
	if !strings.Contains(out.String(), "Step 1/") {
		t.Errorf("start shows no step:\n%s", out)
	}
	sctx, scancel := context.WithTimeout(bg, time.Second)
	defer scancel()
	if err := r.settle(sctx, client); err == nil {
		t.Error("the first check after the resume did not wait for the nodes to be Ready")
	}
	if err := os.Remove(r.Paths.resumedRecord()); err != nil {
		t.Fatal(err)
	}
	wctx, wcancel := context.WithTimeout(bg, time.Second)
	defer wcancel()
	if err := r.Start(wctx, "demo"); err == nil {
		t.Error("a start on a running cluster with no record did not wait for its NotReady nodes")
	}
}
