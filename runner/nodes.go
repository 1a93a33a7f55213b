package runner

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/labs-dev/labs/runner/docker"
)

// NodeShell runs cmd on a node of the lab cluster (the first worker when
// node is ""), attached to s, and returns its exit code.
func (r *Runner) NodeShell(ctx context.Context, node string, cmd []string, s docker.Stdio) (int, error) {
	if err := r.onKind("`labs node`"); err != nil {
		return 0, err
	}
	if err := r.Docker.Preflight(ctx); err != nil {
		return 0, err
	}
	if node == "" {
		node = r.nodeOfInterest(ctx)
	}
	code, err := r.nodes().Shell(ctx, node, cmd, s)
	if err != nil {
		return 0, fmt.Errorf("on node %s: %w; `labs status` shows the nodes and whether they run", node, err)
	}
	return code, nil
}

// nodeOfInterest is where `labs node shell` goes without a name: the node
// of the newest running pod in the current lab's namespace (the one the
// learner just made), else the first worker.
func (r *Runner) nodeOfInterest(ctx context.Context) string {
	fallback := ""
	if names := r.Cluster.NodeNames(); len(names) > 0 {
		fallback = names[min(1, len(names)-1)]
	}
	s, err := r.current(ctx)
	if err != nil {
		return fallback
	}
	c, err := r.client()
	if err != nil {
		return fallback
	}
	pods, err := c.CoreV1().Pods(r.ns(s.lab)).List(ctx, metav1.ListOptions{})
	if err != nil {
		return fallback
	}
	var newest *corev1.Pod
	for i := range pods.Items {
		p := &pods.Items[i]
		if p.Spec.NodeName == "" || p.Status.Phase != corev1.PodRunning || p.DeletionTimestamp != nil {
			continue
		}
		if newest == nil || p.CreationTimestamp.After(newest.CreationTimestamp.Time) {
			newest = p
		}
	}
	if newest == nil {
		return fallback
	}
	fmt.Fprintf(r.ErrOut, "labs: a shell on %s, where pod %s runs\n", newest.Spec.NodeName, newest.Name)
	return newest.Spec.NodeName
}

// NodeMemory limits a node container's memory to bytes, or lifts a limit
// (bytes 0), and says what it did.
func (r *Runner) NodeMemory(ctx context.Context, node string, bytes int64) error {
	if err := r.onKind("`labs node memory`"); err != nil {
		return err
	}
	if err := r.Docker.Preflight(ctx); err != nil {
		return err
	}
	n := r.nodes()
	if bytes == 0 {
		lifted, err := n.LiftMemory(ctx, node)
		switch {
		case err != nil:
			return fmt.Errorf("on node %s: %w", node, err)
		case lifted:
			fmt.Fprintf(r.Out, "node %s: memory limit lifted (to the host's memory: Docker cannot remove a limit once set)\n", node)
		default:
			fmt.Fprintf(r.Out, "node %s: no memory limit to lift\n", node)
		}
		return nil
	}
	if err := n.LimitMemory(ctx, node, bytes); err != nil {
		return fmt.Errorf("on node %s: %w", node, err)
	}
	fmt.Fprintf(r.Out, "node %s: memory limited to %d MiB (its container only: the host and the other nodes are untouched); `labs node memory %s --lift` lifts it\n", node, bytes>>20, node)
	return nil
}
