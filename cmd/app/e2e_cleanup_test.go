//go:build e2e

package app

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/kind/pkg/cluster"
)

// deleteCluster removes a test cluster. kind edits the kubeconfig it is
// given, so it gets a throwaway one, never the user's.
func deleteCluster(t *testing.T, name string) {
	dir, err := os.MkdirTemp("", "labs-e2e-cleanup")
	if err != nil {
		t.Error(err)
		return
	}
	defer os.RemoveAll(dir)
	p := cluster.NewProvider(cluster.ProviderWithDocker())
	if err := p.Delete(name, filepath.Join(dir, "kubeconfig")); err != nil {
		t.Errorf("deleting cluster %s: %v", name, err)
	}
}

// claimSuite makes sure no other cluster suite runs on this machine (its
// clusters have the same names: two suites would run scripts on each
// other's clusters) and deletes the lane clusters an interrupted run left.
// The lock goes with the test process.
func claimSuite(t *testing.T, names ...string) {
	lock := filepath.Join(os.TempDir(), "labs-e2e-suite.lock")
	f, err := os.OpenFile(lock, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		t.Fatalf("the suite's lock: %v", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		t.Fatalf("another cluster suite is running on this machine (%s is locked): its clusters %s would be this one's; let it finish first", lock, strings.Join(names, ", "))
	}
	t.Cleanup(func() { f.Close() })
	out, err := exec.Command("docker", "ps", "-a", "--format", `{{.Label "io.x-k8s.kind.cluster"}}`).Output()
	if err != nil {
		t.Fatalf("listing containers: %v", err)
	}
	for _, name := range names {
		for _, c := range strings.Fields(string(out)) {
			if c == name {
				t.Logf("cluster %s was left by an interrupted run: deleting it", name)
				deleteCluster(t, name)
				break
			}
		}
	}
}

// systemNamespaces are those a fresh kind cluster has.
var systemNamespaces = map[string]bool{"default": true, "kube-system": true, "kube-public": true, "kube-node-lease": true, "local-path-storage": true}

// resetCluster makes a cluster a shared script left look fresh to the next
// one: every namespace but the system ones deleted (and gone), labs' own
// cluster-wide RBAC deleted, every node schedulable. The node images stay:
// each script has its own labs state, so labs loads its images again.
func resetCluster(t *testing.T, name string) {
	p := cluster.NewProvider(cluster.ProviderWithDocker())
	raw, err := p.KubeConfig(name, false)
	if err != nil {
		return // no such cluster: the last script deleted it (labs down)
	}
	cfg, err := clientcmd.RESTConfigFromKubeConfig([]byte(raw))
	if err != nil {
		t.Fatalf("resetting cluster %s: %v", name, err)
	}
	c, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatalf("resetting cluster %s: %v", name, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	start := time.Now()
	sel := metav1.ListOptions{LabelSelector: "app.kubernetes.io/managed-by=labs"}
	_ = c.RbacV1().ClusterRoleBindings().DeleteCollection(ctx, metav1.DeleteOptions{}, sel)
	_ = c.RbacV1().ClusterRoles().DeleteCollection(ctx, metav1.DeleteOptions{}, sel)
	nodes, err := c.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatalf("resetting cluster %s: %v", name, err)
	}
	for _, n := range nodes.Items {
		if n.Spec.Unschedulable {
			if _, err := c.CoreV1().Nodes().Patch(ctx, n.Name, types.MergePatchType, []byte(`{"spec":{"unschedulable":false}}`), metav1.PatchOptions{}); err != nil {
				t.Fatalf("resetting cluster %s: uncordon %s: %v", name, n.Name, err)
			}
		}
	}
	for {
		nss, err := c.CoreV1().Namespaces().List(ctx, metav1.ListOptions{})
		if err != nil {
			t.Fatalf("resetting cluster %s: %v", name, err)
		}
		var left []string
		for _, ns := range nss.Items {
			if systemNamespaces[ns.Name] {
				continue
			}
			left = append(left, ns.Name)
			if ns.Status.Phase != corev1.NamespaceTerminating {
				_ = c.CoreV1().Namespaces().Delete(ctx, ns.Name, metav1.DeleteOptions{})
			}
		}
		if len(left) == 0 {
			break
		}
		if ctx.Err() != nil {
			t.Fatalf("resetting cluster %s: namespaces still there after 3 minutes: %v", name, left)
		}
		time.Sleep(500 * time.Millisecond)
	}
	t.Logf("cluster %s reset for the next shared script in %.1fs", name, time.Since(start).Seconds())
}
