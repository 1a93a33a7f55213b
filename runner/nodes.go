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
