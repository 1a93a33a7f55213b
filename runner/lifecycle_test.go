package runner

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/labs-dev/labs/runner/docker"
)

// labs stop stops the node containers and keeps the cluster; labs start
// starts them again and resumes the lab at the same step.
func TestStopThenStartResumes(t *testing.T) {
	client := fake.NewSimpleClientset(readyNode())
	r, cl, out := newTestRunner(t, client, fakeDocker{})
	ctx := context.Background()
	if err := r.Start(ctx, "demo"); err != nil {
		t.Fatal(err)
	}
	if err := r.Move(ctx, 1); err != nil {
		t.Fatal(err)
	}
	if err := r.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	if cl.nodes[0].State != "exited" {
		t.Fatalf("node after stop: %+v", cl.nodes[0])
	}
	out.Reset()
	if err := r.Status(ctx, false); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "cluster labs-test: stopped; `labs start LAB` resumes it") || !strings.Contains(out.String(), "labs-test-control-plane  control-plane  exited") {
		t.Errorf("status of a stopped cluster:\n%s", out)
	}
	out.Reset()
	if err := r.Start(ctx, "demo"); err != nil {
		t.Fatal(err)
	}
	if cl.started != 1 || cl.created != "node:test" || cl.nodes[0].State != "running" {
		t.Errorf("start did not resume the stopped cluster: %+v", cl)
	}
	errOut := r.ErrOut.(*bytes.Buffer).String()
	if !strings.Contains(errOut, "resuming cluster labs-test: starting its stopped nodes (labs-test-control-plane)") || !strings.Contains(errOut, "resuming demo at step 2 of 2") {
		t.Errorf("start output:\n%s", errOut)
	}
	if !strings.Contains(out.String(), "Step 2/2") {
		t.Errorf("start did not show step 2:\n%s", out)
	}
	// Stopping twice says so; stopping nothing is no error.
	if err := r.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	if err := r.Stop(ctx); err != nil || !strings.Contains(r.ErrOut.(*bytes.Buffer).String(), "already stopped") {
		t.Errorf("second stop: %v", err)
	}
}

// A node container deleted outside labs is named, with the way to repair
// it, by start and by status.
func TestMissingNodeContainerIsNamed(t *testing.T) {
	r, cl, out := newTestRunner(t, fake.NewSimpleClientset(readyNode()), fakeDocker{})
	cl.nodes = []docker.Container{{Name: "labs-test-worker", State: "running"}}
	err := r.Start(context.Background(), "demo")
	if err == nil || !strings.Contains(err.Error(), "lacks its node container labs-test-control-plane") || !strings.Contains(err.Error(), "`labs down` then `labs start LAB`") {
		t.Fatalf("start = %v", err)
	}
	if err := r.Status(context.Background(), false); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "cluster labs-test: broken (node container labs-test-control-plane deleted outside labs)") {
		t.Errorf("status:\n%s", out)
	}
}

// With the API server down, check and status say so in one sentence, within
// the check's timeout, and status does not claim "running".
func TestUnreachableAPIServer(t *testing.T) {
	r, cl, out := newTestRunner(t, nil, fakeDocker{})
	r.NewClient = nil // the real client, to the kubeconfig's https://127.0.0.1:1: refused
	if err := writeAtomic(r.fileStore().file("demo"), []byte(`{"step":0,"done":[false,false]}`)); err != nil {
		t.Fatal(err)
	}
	if err := r.store().SetCurrent(context.Background(), "demo", ""); err != nil {
		t.Fatal(err)
	}
	cl.nodes = []docker.Container{{Name: fakeNode, State: "running"}}
	ctx := context.Background()
	start := time.Now()
	err := r.Check(ctx, CheckOptions{Timeout: 3 * time.Second})
	if !errors.Is(err, ErrUnreachable) || !strings.Contains(err.Error(), "`labs start LAB` brings it back") {
		t.Fatalf("check = %v", err)
	}
	if el := time.Since(start); el > 15*time.Second {
		t.Errorf("check took %s against a dead API server", el)
	}
	if err := r.Status(ctx, false); err != nil {
		t.Fatal(err)
	}
	s := out.String()
	if strings.Contains(s, "cluster labs-test: running") || !strings.Contains(s, "cluster labs-test: unreachable (the lab cluster's API server does not answer") {
		t.Errorf("status:\n%s", s)
	}
	var rep StatusReport
	out.Reset()
	if err := r.Status(ctx, true); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil || rep.Running || rep.State != StateUnreachable || rep.Fix == "" {
		t.Errorf("status JSON = %+v, %v", rep, err)
	}
}

// Another cluster (LABS_CLUSTER_NAME) keeps its kubeconfig, lock and
// progress apart from the learner's.
func TestPathsAreKeyedByCluster(t *testing.T) {
	base := Paths{ConfigDir: "/c/labs", StateDir: "/s/labs"}
	def, other := base.ForCluster(DefaultCluster), base.ForCluster("labs-e2e")
	if def.Kubeconfig() != "/c/labs/kubeconfig" || def.clusterLock() != "/s/labs/cluster.lock" {
		t.Errorf("default cluster paths moved: %+v", def)
	}
	for _, pair := range [][2]string{
		{def.Kubeconfig(), other.Kubeconfig()},
		{def.clusterLock(), other.clusterLock()},
		{def.progressLock(), other.progressLock()},
		{def.StateDir, other.StateDir},
	} {
		if pair[0] == pair[1] || !strings.Contains(pair[1], "labs-e2e") {
			t.Errorf("cluster labs-e2e shares %s with the learner's cluster (%s)", pair[1], pair[0])
		}
	}
}

// labs doctor on a machine like this project's CI: cgroup v1, negative
// oom_score_adj refused (clamped to 0), limits read in a node.
func TestDoctorReportsThisMachine(t *testing.T) {
	d := fakeDocker{image: true, execOut: map[string]string{
		"sh":                              "0\n",
		inotifyDir + "max_user_instances": "8192\n",
		inotifyDir + "max_user_watches":   "1048576\n",
		"df":                              "Filesystem 1024-blocks Used Available Capacity Mounted on\noverlay 263174212 200000000 55000000 79% /\n",
	}}
	r, cl, out := newTestRunner(t, fake.NewSimpleClientset(readyNode()), d)
	cl.nodes = []docker.Container{{Name: fakeNode, State: "running"}}
	if err := r.Doctor(context.Background(), false); err != nil {
		t.Fatalf("doctor = %v\n%s", err, out)
	}
	s := out.String()
	for _, want := range []string{
		"✓ docker         Docker 20.10.24 (API 1.41)",
		"cgroup v1 (cgroupfs driver)",
		"! oom_score_adj  negative values are not allowed here (in node labs-test-control-plane, no CAP_SYS_RESOURCE; set -998, read back 0)",
		"52.5 GiB free where Docker keeps containers",
		"max_user_instances 8192, max_user_watches 1048576 (in node labs-test-control-plane",
		"✓ node image     node:test is present",
		"Ready for labs.",
	} {
		if !strings.Contains(s, want) {
			t.Errorf("doctor lacks %q:\n%s", want, s)
		}
	}
	out.Reset()
	if err := r.Doctor(context.Background(), true); err != nil {
		t.Fatal(err)
	}
	var rep DoctorReport
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil || !rep.OK || len(rep.Checks) != 8 {
		t.Fatalf("doctor JSON = %+v, %v\n%s", rep, err, out)
	}
}

// Negative values allowed, low inotify limits, little memory: each says so
// with its fix; Docker down fails the doctor.
func TestDoctorWarnsAndFails(t *testing.T) {
	d := fakeDocker{execOut: map[string]string{
		"sh":                              "-998\n",
		inotifyDir + "max_user_instances": "128\n",
		inotifyDir + "max_user_watches":   "8192\n",
	}}
	r, cl, out := newTestRunner(t, fake.NewSimpleClientset(readyNode()), d)
	cl.nodes = []docker.Container{{Name: fakeNode, State: "running"}}
	r.Host = fakeHost{free: 1 << 30}
	if err := r.Doctor(context.Background(), false); !errors.Is(err, ErrDoctorFailed) {
		t.Fatalf("doctor with 1 GiB of disk = %v\n%s", err, out)
	}
	s := out.String()
	for _, want := range []string{
		"✓ oom_score_adj  negative values are allowed",
		"! inotify",
		"fix: pods may fail with \"too many open files\"",
		"✗ disk           1.0 GiB free under /nonexistent/docker",
		"! node image",
		"Not ready",
	} {
		if !strings.Contains(s, want) {
			t.Errorf("doctor lacks %q:\n%s", want, s)
		}
	}
	out.Reset()
	r.Docker = fakeDocker{err: errors.New("docker is not running: no engine answers")}
	if err := r.Doctor(context.Background(), false); !errors.Is(err, ErrDoctorFailed) || !strings.Contains(out.String(), "✗ docker  docker is not running") {
		t.Errorf("doctor without Docker = %v\n%s", err, out)
	}
}

type fakeHost struct{ free uint64 }

func (h fakeHost) ReadFile(p string) ([]byte, error) {
	return os.ReadFile(filepath.Join("/nonexistent", p))
}
func (h fakeHost) FreeBytes(string) (uint64, error) { return h.free, nil }
func (h fakeHost) GOOS() string                     { return "linux" }

var _ kubernetes.Interface = (*fake.Clientset)(nil)
