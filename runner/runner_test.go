package runner

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/api/meta/testrestmapper"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	dynamicfake "k8s.io/client-go/dynamic/fake"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/fake"
	"k8s.io/client-go/kubernetes/scheme"

	"github.com/labs-dev/labs/content"
)

func TestStoreRoundTripAndAtomicity(t *testing.T) {
	dir := t.TempDir()
	st := Store{Dir: dir, Lock: filepath.Join(dir, "progress.lock")}
	if p, err := st.Load(context.Background(), "x"); p != nil || err != nil {
		t.Fatalf("Load of a new lab = %v, %v; want nil, nil", p, err)
	}
	p := &Progress{Lab: "x", Step: 2, Done: []bool{true, true, false}, Passed: []int{1}}
	if err := st.Save(context.Background(), "x", p); err != nil {
		t.Fatal(err)
	}
	got, err := st.Load(context.Background(), "x")
	if err != nil || got.Step != 2 || got.DoneCount() != 2 || len(got.Passed) != 1 {
		t.Fatalf("Load = %+v, %v", got, err)
	}
	entries, _ := os.ReadDir(filepath.Join(st.Dir, "progress"))
	if len(entries) != 1 {
		t.Errorf("temp files left behind: %v", entries)
	}
	if err := os.WriteFile(st.file("x"), []byte("{"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Load(context.Background(), "x"); err == nil || !strings.Contains(err.Error(), "labs reset x") {
		t.Errorf("damaged file: %v", err)
	}
}

func TestJUnitSeparatesFailuresFromErrors(t *testing.T) {
	rep := junitReport([]LabResult{{
		Lab: "demo", Seconds: 3,
		Steps: []StepResult{
			{Step: 1, Title: "ok", FailedBefore: true, PassedAfter: true, Seconds: 1},
			{Step: 2, Title: "bad check", Failure: "expected x; found y"},
			{Step: 3, Title: "bad script", Error: "solution: exit status 3"},
		},
	}})
	b, err := xml.Marshal(rep)
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	for _, want := range []string{`tests="3" failures="1" errors="1"`, `<failure message="expected x; found y">`, `<error message="solution: exit status 3">`, `name="step 01: ok"`} {
		if !strings.Contains(s, want) {
			t.Errorf("JUnit lacks %s:\n%s", want, s)
		}
	}
}

const demoLab = "---\nid: demo\ntitle: Demo\nsummary: s\nnamespace: demo\n---\n" +
	"## Scale\n```check\n- {type: deployment-available, name: web, replicas: 2, timeout: 1s}\n```\n```solve\ntrue\n```\n" +
	"## Again\n```check\n- {type: deployment-available, name: web, replicas: 3, timeout: 1s}\n```\n```solve\ntrue\n```\n"

const kubeconfig = `apiVersion: v1
kind: Config
current-context: kind-labs
clusters: [{name: kind-labs, cluster: {server: "https://127.0.0.1:1"}}]
contexts: [{name: kind-labs, context: {cluster: kind-labs, user: kind-labs}}]
users: [{name: kind-labs, user: {}}]
`

func newTestRunner(t *testing.T, client kubernetes.Interface, docker Docker) (*Runner, *fakeCluster, *bytes.Buffer) {
	t.Helper()
	cat, err := LoadCatalog(Source{Origin: BuiltIn, FS: fstest.MapFS{"demo.md": {Data: []byte(demoLab)}}})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	paths := Paths{ConfigDir: filepath.Join(dir, "config"), StateDir: filepath.Join(dir, "state")}
	if err := os.MkdirAll(paths.ConfigDir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(paths.Kubeconfig(), []byte(kubeconfig), 0o600); err != nil {
		t.Fatal(err)
	}
	var out, errOut bytes.Buffer
	cl := &fakeCluster{kubeconfig: paths.Kubeconfig()}
	r := &Runner{
		Cluster: cl, Docker: docker, Paths: paths, Catalog: cat, NodeImage: "node:test", Executable: os.Args[0],
		Out: &out, ErrOut: &errOut, Display: NewDisplay(&errOut, content.Style{}, false), Nodes: 1,
		NewClient: func() (kubernetes.Interface, error) { return client, nil },
	}
	dyn := dynamicfake.NewSimpleDynamicClient(scheme.Scheme)
	mapper := testrestmapper.TestOnlyStaticRESTMapper(scheme.Scheme)
	r.NewDynamic = func() (dynamic.Interface, meta.RESTMapper, error) { return dyn, mapper, nil }
	return r, cl, &out
}

// createObject creates o where checks read the cluster (the fake dynamic
// client).
func createObject(t *testing.T, r *Runner, o runtime.Object) {
	t.Helper()
	dyn, mapper, _ := r.NewDynamic()
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
	mapping, err := mapper.RESTMapping(gvks[0].GroupKind(), gvks[0].Version)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := dyn.Resource(mapping.Resource).Namespace(u.GetNamespace()).Create(context.Background(), u, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
}

// deleteObject deletes a Deployment where checks read the cluster.
func deleteDeployment(r *Runner, ns, name string) {
	dyn, _, _ := r.NewDynamic()
	_ = dyn.Resource(schema.GroupVersionResource{Group: "apps", Version: "v1", Resource: "deployments"}).Namespace(ns).Delete(context.Background(), name, metav1.DeleteOptions{})
}

func readyNode() *corev1.Node {
	return &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "n1"}, Status: corev1.NodeStatus{Conditions: []corev1.NodeCondition{{Type: corev1.NodeReady, Status: corev1.ConditionTrue}}}}
}

// The learner flow on a fake cluster: start creates the cluster with the
// chosen image and loads the workload; check fails with expected/found and
// keeps the step; when the state is right, check passes and moves on.
func TestStartCheckAdvance(t *testing.T) {
	client := fake.NewSimpleClientset(readyNode())
	r, cl, out := newTestRunner(t, client, fakeDocker{})
	ctx := context.Background()
	if err := r.Start(ctx, "demo"); err != nil {
		t.Fatal(err)
	}
	if cl.created != "node:test" || cl.loaded != 1 {
		t.Errorf("cluster created with %q, images loaded %d times", cl.created, cl.loaded)
	}
	// The step shows before the new nodes are Ready: the first check waits.
	if b, err := os.ReadFile(r.Paths.resumedRecord()); err != nil || !strings.Contains(string(b), `"created":true`) {
		t.Errorf("start did not record the new cluster for the first check (%v): %s", err, b)
	}
	if !strings.Contains(out.String(), "Step 1/2: Scale") {
		t.Errorf("start output: %s", out)
	}
	if _, err := client.CoreV1().Namespaces().Get(ctx, "demo", metav1.GetOptions{}); err != nil {
		t.Errorf("lab namespace not created: %v", err)
	}
	b, _ := os.ReadFile(r.Paths.Kubeconfig())
	if !strings.Contains(string(b), "namespace: demo") {
		t.Errorf("lab kubeconfig does not default to the lab namespace:\n%s", b)
	}

	out.Reset()
	err := r.Check(ctx, CheckOptions{})
	if !errors.Is(err, ErrChecksFailed) {
		t.Fatalf("Check on an empty namespace = %v, want ErrChecksFailed", err)
	}
	if !strings.Contains(out.String(), "expected Deployment web has 2 available replicas; found no Deployment web") {
		t.Errorf("check output: %s", out)
	}
	if _, err := os.Stat(r.Paths.resumedRecord()); !os.IsNotExist(err) {
		t.Errorf("the first check left the new-cluster record: %v", err)
	}

	two := int32(2)
	d := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "demo"}, Spec: appsv1.DeploymentSpec{Replicas: &two}, Status: appsv1.DeploymentStatus{AvailableReplicas: 2}}
	createObject(t, r, d)
	out.Reset()
	if err := r.Check(ctx, CheckOptions{}); err != nil {
		t.Fatalf("Check with the right state = %v\n%s", err, out)
	}
	if !strings.Contains(out.String(), "Step 1 done") || !strings.Contains(out.String(), "Step 2/2: Again") {
		t.Errorf("check output: %s", out)
	}
	p, _ := r.store().Load(context.Background(), "demo")
	if p.Step != 1 || !p.Done[0] || p.Baseline == nil {
		t.Errorf("progress = %+v", p)
	}

	// start again resumes instead of starting over.
	if err := r.Move(ctx, -1); err != nil {
		t.Fatal(err)
	}
	if p, _ := r.store().Load(context.Background(), "demo"); p.Step != 0 || !p.Done[0] {
		t.Errorf("after prev: %+v", p)
	}
}

func TestStartStopsWhenDockerIsDown(t *testing.T) {
	r, cl, _ := newTestRunner(t, fake.NewSimpleClientset(), fakeDocker{err: errors.New("docker is not running")})
	err := r.Start(context.Background(), "demo")
	if err == nil || !strings.Contains(err.Error(), "docker is not running") {
		t.Fatalf("Start = %v", err)
	}
	if len(cl.nodes) > 0 {
		t.Error("a cluster was created although Docker was down")
	}
}

// A second labs command waits for the first to release the state lock (two
// `labs start` never create the cluster at once), and says it is waiting.
func TestLockSerializesCommands(t *testing.T) {
	dir := t.TempDir()
	var out1, out2 bytes.Buffer
	r1 := &Runner{Paths: Paths{StateDir: dir}, Display: NewDisplay(&out1, content.Style{}, false)}
	r2 := &Runner{Paths: Paths{StateDir: dir}, Display: NewDisplay(&out2, content.Style{}, false)}
	release, err := r1.lockCluster(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan error, 1)
	go func() {
		rel, err := r2.lockCluster(context.Background())
		if err == nil {
			rel()
		}
		got <- err
	}()
	select {
	case err := <-got:
		t.Fatalf("second lock returned %v while the first was held", err)
	case <-time.After(700 * time.Millisecond):
	}
	release()
	select {
	case err := <-got:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("second lock not granted after release")
	}
	if !strings.Contains(out2.String(), "another labs command is setting up the cluster; waiting") {
		t.Errorf("second command did not say it waits: %q", out2.String())
	}
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	rel, _ := r1.lockCluster(context.Background())
	defer rel()
	if _, err := r2.lockCluster(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("lock with an ended context = %v", err)
	}
}

type failingLoad struct{ *fakeCluster }

func (f failingLoad) LoadImageArchive(context.Context, []byte, []string) error {
	return errors.New("ctr: no space left on device")
}

// A cluster this start created but could not finish is deleted again; one
// that existed before is left alone.
func TestStartRollsBackAnUnfinishedCluster(t *testing.T) {
	r, cl, _ := newTestRunner(t, fake.NewSimpleClientset(readyNode()), fakeDocker{})
	r.Cluster = failingLoad{cl}
	err := r.Start(context.Background(), "demo")
	if err == nil || !strings.Contains(err.Error(), "no space left on device") {
		t.Fatalf("Start = %v", err)
	}
	if len(cl.nodes) > 0 {
		t.Error("the unfinished cluster was not removed")
	}
}

// With no cluster to test on, labs test still writes a JUnit report whose
// cases are errors (not failures), and fails.
func TestTestWritesJUnitWhenTheClusterIsUnreachable(t *testing.T) {
	r, _, _ := newTestRunner(t, fake.NewSimpleClientset(), fakeDocker{err: errors.New("docker is not running")})
	junit := filepath.Join(t.TempDir(), "report.xml")
	err := r.Test(context.Background(), []string{"demo"}, TestOptions{JUnitFile: junit})
	if err == nil || !strings.Contains(err.Error(), "docker is not running") {
		t.Fatalf("Test = %v", err)
	}
	b, rerr := os.ReadFile(junit)
	if rerr != nil {
		t.Fatal(rerr)
	}
	if !strings.Contains(string(b), `errors="1"`) || !strings.Contains(string(b), `<error message="cluster: docker is not running"`) || strings.Contains(string(b), "<failure") {
		t.Errorf("JUnit:\n%s", b)
	}
}

// labs test (or any command that makes sure the cluster is there) rewrites
// the lab kubeconfig; `labs kubectl` keeps defaulting to the current lab's
// namespace afterwards.
func TestEnsureClusterKeepsTheLabNamespace(t *testing.T) {
	r, _, _ := newTestRunner(t, fake.NewSimpleClientset(readyNode()), fakeDocker{})
	ctx := context.Background()
	if err := r.Start(ctx, "demo"); err != nil {
		t.Fatal(err)
	}
	if _, err := r.ensureCluster(ctx); err != nil {
		t.Fatal(err)
	}
	if ns := r.kubeconfigNamespace(); ns != "demo" {
		t.Fatalf("after the kubeconfig was written again, its namespace is %q, want demo", ns)
	}
}

// Two commands judging one passing step at once (labs check in one
// terminal, labs watch in another), both having read the progress before
// either records: the next step's setup runs once, and both say the step
// is done, the second without writing anything.
func TestNextSetupRunsOnce(t *testing.T) {
	client := fake.NewSimpleClientset(readyNode())
	r1, _, _ := newTestRunner(t, client, fakeDocker{})
	ran := filepath.Join(t.TempDir(), "ran")
	lab := strings.Replace(demoLab, "## Again\n", fmt.Sprintf("## Again\n```setup sh\necho ran >> %s\nsleep 1\n```\n", ran), 1)
	cat, err := LoadCatalog(Source{Origin: BuiltIn, FS: fstest.MapFS{"demo.md": {Data: []byte(lab)}}})
	if err != nil {
		t.Fatal(err)
	}
	r1.Catalog = cat
	ctx := context.Background()
	if err := r1.Start(ctx, "demo"); err != nil {
		t.Fatal(err)
	}
	two := int32(2)
	createObject(t, r1, &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "demo"}, Spec: appsv1.DeploymentSpec{Replicas: &two}, Status: appsv1.DeploymentStatus{AvailableReplicas: 2}})
	r2 := *r1 // the other terminal: same state dir and cluster, its own output
	var out2, errOut2 bytes.Buffer
	r2.Out, r2.ErrOut, r2.Display = &out2, &errOut2, NewDisplay(&errOut2, content.Style{}, false)

	var sessions []*session
	for _, r := range []*Runner{r1, &r2} {
		s, err := r.current(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		sessions = append(sessions, s)
	}
	type result struct {
		rep   CheckReport
		after *Progress
		err   error
	}
	results := make(chan result, 2)
	for i, r := range []*Runner{r1, &r2} {
		go func() {
			v, err := r.evaluate(ctx, sessions[i], CheckOptions{JSON: true})
			if err != nil {
				results <- result{err: err}
				return
			}
			after, err := r.record(ctx, sessions[i], &v)
			results <- result{v.report, after, err}
		}()
	}
	for range 2 {
		res := <-results
		if res.err != nil {
			t.Fatal(res.err)
		}
		if !res.rep.Passed || res.rep.Moved != "" || res.rep.Next != 2 || res.after == nil || res.after.Step != 1 {
			t.Errorf("report %+v, progress after %+v: want step 1 passed and step 2 next in both terminals", res.rep, res.after)
		}
	}
	b, _ := os.ReadFile(ran)
	if n := strings.Count(string(b), "ran"); n != 1 {
		t.Fatalf("step 2's setup ran %d times for one move, want 1", n)
	}
	if p, _ := r1.store().Load(context.Background(), "demo"); p.Step != 1 || !p.Done[0] || p.Baseline == nil {
		t.Fatalf("progress = %+v, want step 2 with step 1 done and its baseline", p)
	}
}

// stuckNode is a cluster whose first delete leaves a node Docker could not
// remove (a frozen cgroup in it); a later one succeeds.
type stuckNode struct {
	*fakeCluster
	deletes int
}

func (s *stuckNode) Delete() error {
	s.deletes++
	if s.deletes == 1 {
		return errors.New(`failed to delete nodes: command "docker rm -f -v node" failed with error: exit status 1`)
	}
	return s.fakeCluster.Delete()
}

// labs down thaws the nodes' frozen cgroups and deletes again when a node
// will not go; with nothing frozen it says what is left and what to try.
func TestDownThawsANodeThatWillNotStop(t *testing.T) {
	for _, thawed := range []int{1, 0} {
		r, cl, _ := newTestRunner(t, fake.NewSimpleClientset(readyNode()), fakeDocker{thawed: thawed})
		if err := r.Start(context.Background(), "demo"); err != nil {
			t.Fatal(err)
		}
		stuck := &stuckNode{fakeCluster: cl}
		r.Cluster = stuck
		err := r.Down(context.Background())
		errOut := r.ErrOut.(interface{ String() string }).String()
		switch {
		case thawed == 1 && (err != nil || stuck.deletes != 2 || !strings.Contains(errOut, "thawed 1 frozen cgroup")):
			t.Errorf("with a frozen cgroup: Down = %v after %d deletes\n%s", err, stuck.deletes, errOut)
		case thawed == 0 && (err == nil || stuck.deletes != 1 || !strings.Contains(err.Error(), "restarting Docker frees a container that will not stop")):
			t.Errorf("with nothing to thaw: Down = %v after %d deletes", err, stuck.deletes)
		}
	}
}
