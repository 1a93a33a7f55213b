package runner

import (
	"context"
	"os"
	"slices"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"
)

// The workload images go into a node once: a warm start loads nothing, a
// node recreated under the same name (a new container) gets them again,
// and a damaged record costs a reload, not an error. Only the engine's
// architecture is built.
func TestImagesLoadOnlyWhereMissing(t *testing.T) {
	r, cl, _ := newTestRunner(t, fake.NewSimpleClientset(readyNode()), fakeDocker{})
	ctx := context.Background()
	if err := cl.Create(ctx, "node:test"); err != nil {
		t.Fatal(err)
	}
	if err := r.loadImages(ctx, nil); err != nil {
		t.Fatal(err)
	}
	if cl.loaded != 1 || !slices.Equal(cl.loadedInto, []string{fakeNode}) {
		t.Fatalf("first load: %d loads into %v", cl.loaded, cl.loadedInto)
	}
	oneArch := cl.archiveSize

	if err := r.loadImages(ctx, nil); err != nil {
		t.Fatal(err)
	}
	if cl.loaded != 1 {
		t.Fatalf("warm start loaded the images again (%d loads)", cl.loaded)
	}

	// The same name, a new container: loaded again.
	if err := cl.Create(ctx, "node:test"); err != nil {
		t.Fatal(err)
	}
	if err := r.loadImages(ctx, nil); err != nil {
		t.Fatal(err)
	}
	if cl.loaded != 2 {
		t.Fatalf("a recreated node was not loaded (%d loads)", cl.loaded)
	}

	if err := os.WriteFile(r.Paths.imagesRecord(), []byte("{not json"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := r.loadImages(ctx, nil); err != nil {
		t.Fatalf("a damaged record: %v", err)
	}
	if cl.loaded != 3 {
		t.Fatalf("a damaged record did not reload (%d loads)", cl.loaded)
	}

	// An engine that does not say its architecture gets all of them: more
	// bytes than the one architecture above.
	r.Docker = fakeDocker{err: os.ErrInvalid}
	if err := os.Remove(r.Paths.imagesRecord()); err != nil {
		t.Fatal(err)
	}
	if err := r.loadImages(ctx, nil); err != nil {
		t.Fatal(err)
	}
	if cl.archiveSize <= oneArch*3/2 {
		t.Fatalf("all architectures: %d bytes, one: %d", cl.archiveSize, oneArch)
	}
}

// The nodes' own architecture wins over the engine's (a node image may run
// emulated); nodes that differ get every architecture.
func TestNodeArches(t *testing.T) {
	node := func(name, arch string) *corev1.Node {
		return &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name}, Status: corev1.NodeStatus{NodeInfo: corev1.NodeSystemInfo{Architecture: arch}}}
	}
	r, _, _ := newTestRunner(t, fake.NewSimpleClientset(), fakeDocker{}) // the engine says x86_64
	ctx := context.Background()
	for _, tc := range []struct {
		nodes []*corev1.Node
		want  []string
	}{
		{[]*corev1.Node{node("a", "arm64"), node("b", "arm64")}, []string{"arm64"}},
		{[]*corev1.Node{node("a", "arm64"), node("b", "amd64")}, nil},
		{[]*corev1.Node{node("a", "")}, []string{"amd64"}},
		{[]*corev1.Node{node("a", "s390x")}, nil},
	} {
		c := fake.NewSimpleClientset()
		for _, n := range tc.nodes {
			if _, err := c.CoreV1().Nodes().Create(ctx, n, metav1.CreateOptions{}); err != nil {
				t.Fatal(err)
			}
		}
		if got := r.nodeArches(ctx, c); !slices.Equal(got, tc.want) {
			t.Errorf("nodes %v: arches %v, want %v", tc.nodes[0].Status.NodeInfo.Architecture, got, tc.want)
		}
	}

	// A cluster being created (no kubelet has reported, no client yet): a
	// node says what it runs, an emulated arm64 node on an x86_64 engine
	// too; a node that cannot say leaves the engine's.
	for _, tc := range []struct {
		uname string
		want  []string
	}{{"aarch64\n", []string{"arm64"}}, {"x86_64\n", []string{"amd64"}}, {"", []string{"amd64"}}} {
		d := fakeDocker{}
		if tc.uname != "" {
			d.execOut = map[string]string{"uname": tc.uname}
		}
		r.Docker = d
		if got := r.nodeArches(ctx, nil); !slices.Equal(got, tc.want) {
			t.Errorf("node's uname -m %q: arches %v, want %v", tc.uname, got, tc.want)
		}
	}
}

// A warm start keeps the kubeconfig labs wrote (reading it anew from kind
// costs two docker commands); a resume of stopped nodes, or a kubeconfig
// that is gone, has it written afresh.
func TestWarmStartKeepsKubeconfig(t *testing.T) {
	r, cl, _ := newTestRunner(t, fake.NewSimpleClientset(readyNode()), fakeDocker{})
	ctx := context.Background()
	if err := r.Start(ctx, "demo"); err != nil {
		t.Fatal(err)
	}
	before := cl.kubeconfigWrites
	if err := r.Start(ctx, "demo"); err != nil {
		t.Fatal(err)
	}
	if cl.kubeconfigWrites != before {
		t.Errorf("a warm start rewrote the kubeconfig (%d writes)", cl.kubeconfigWrites-before)
	}
	if err := cl.StopNodes(ctx, 0); err != nil {
		t.Fatal(err)
	}
	if err := r.Start(ctx, "demo"); err != nil {
		t.Fatal(err)
	}
	if cl.kubeconfigWrites != before+1 {
		t.Errorf("a resume wrote the kubeconfig %d times, want 1", cl.kubeconfigWrites-before)
	}
	if err := os.Remove(r.Paths.Kubeconfig()); err != nil {
		t.Fatal(err)
	}
	if err := r.Start(ctx, "demo"); err != nil {
		t.Fatal(err)
	}
	if cl.kubeconfigWrites != before+2 {
		t.Errorf("a missing kubeconfig was not written (%d writes)", cl.kubeconfigWrites-before)
	}
}
