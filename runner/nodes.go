package runner

import (
	"context"
	"fmt"

	"github.com/labs-dev/labs/runner/docker"
)

// NodeShell runs cmd on a node of the lab cluster (the first worker when
// node is ""), attached to s, and returns its exit code.
func (r *Runner) NodeShell(ctx context.Context, node string, cmd []string, s docker.Stdio) (int, error) {
	if err := r.Docker.Preflight(ctx); err != nil {
		return 0, err
	}
	names := r.Cluster.NodeNames()
	if node == "" && len(names) > 1 {
		node = names[1]
	}
	code, err := r.nodes().Shell(ctx, node, cmd, s)
	if err != nil {
		return 0, fmt.Errorf("on node %s: %w; `labs status` shows the nodes and whether they run", node, err)
	}
	return code, nil
}

// NodeMemory limits a node container's memory to bytes, or lifts a limit
// (bytes 0), and says what it did.
func (r *Runner) NodeMemory(ctx context.Context, node string, bytes int64) error {
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
