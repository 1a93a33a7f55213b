// Package node reads the truth of a cluster node: it runs commands in the
// node's container (kind nodes are Docker containers named after the node)
// and finds a Kubernetes container's process and cgroup there, on cgroup v1
// and v2 hosts alike. It is, with the cluster adapter, the only part of
// labs that talks to Docker.
package node

import (
	"context"
	"errors"
	"fmt"
	"path"
	"strconv"
	"strings"

	"github.com/labs-dev/labs/checks"
	"github.com/labs-dev/labs/runner/docker"
)

// Execer runs a command in a container (runner/docker.Engine).
type Execer interface {
	Exec(ctx context.Context, container string, cmd []string) (docker.ExecResult, error)
	ExecInteractive(ctx context.Context, container string, cmd []string, s docker.Stdio) (int, error)
	MemoryLimit(ctx context.Context, container string) (int64, error)
	SetMemoryLimit(ctx context.Context, container string, bytes int64) error
	Facts(ctx context.Context) (docker.Facts, error)
}

// Nodes reaches the nodes of one cluster.
type Nodes struct {
	Docker Execer
	// Known lists the cluster's node names: a name outside it is refused
	// before Docker is asked (it could name any container on the machine).
	Known func() []string
}

// ErrNoNode means the name is not a node of the lab cluster.
var ErrNoNode = errors.New("no such node")

// Exec runs cmd on node, as root, and returns what it printed.
func (n *Nodes) Exec(ctx context.Context, node string, cmd []string) (docker.ExecResult, error) {
	if err := n.check(node); err != nil {
		return docker.ExecResult{}, err
	}
	return n.Docker.Exec(ctx, node, cmd)
}

// Shell runs cmd on node with the caller's terminal or pipes attached
// (`labs node shell`, `labs node exec`), and returns its exit code.
func (n *Nodes) Shell(ctx context.Context, node string, cmd []string, s docker.Stdio) (int, error) {
	if err := n.check(node); err != nil {
		return 0, err
	}
	return n.Docker.ExecInteractive(ctx, node, cmd, s)
}

// MinMemoryLimit is the least memory a node may be limited to: below it
// the node's own kubelet and containerd would be the ones to die.
const MinMemoryLimit = 768 << 20

// LimitMemory puts a memory limit on a node's container (through Docker),
// so memory pressure stays on that node: the host and the other nodes are
// untouched. LiftMemory undoes it.
func (n *Nodes) LimitMemory(ctx context.Context, node string, bytes int64) error {
	if err := n.check(node); err != nil {
		return err
	}
	if bytes < MinMemoryLimit {
		return fmt.Errorf("a node needs at least %d MiB for itself (kubelet, containerd); %d MiB is too little", MinMemoryLimit>>20, bytes>>20)
	}
	return n.Docker.SetMemoryLimit(ctx, node, bytes)
}

// LiftMemory removes a limit LimitMemory set. Docker cannot remove a
// memory limit on cgroup v1 (0 leaves it as it is), so the limit becomes
// the host's whole memory, which is no limit. It reports whether there was
// a limit to lift; a node without one is not touched.
func (n *Nodes) LiftMemory(ctx context.Context, node string) (bool, error) {
	if err := n.check(node); err != nil {
		return false, err
	}
	cur, err := n.Docker.MemoryLimit(ctx, node)
	if err != nil {
		return false, err
	}
	f, err := n.Docker.Facts(ctx)
	if err != nil {
		return false, err
	}
	if cur == 0 || cur >= f.MemoryBytes {
		return false, nil
	}
	return true, n.Docker.SetMemoryLimit(ctx, node, f.MemoryBytes)
}

func (n *Nodes) check(node string) error {
	known := n.Known()
	for _, k := range known {
		if k == node {
			return nil
		}
	}
	return fmt.Errorf("%w %q: the lab cluster's nodes are %s", ErrNoNode, node, strings.Join(known, ", "))
}

// findScript prints the cgroup filesystem type, then, for the process of
// container $1 that is PID 1 in its own PID namespace (the container's
// main process, not a process it started or an exec), its PID and its
// /proc/PID/cgroup. The container ID appears in the cgroup path under
// both cgroup drivers (cri-containerd-ID.scope or .../ID).
const findScript = `stat -fc %T /sys/fs/cgroup
for f in /proc/[0-9]*/cgroup; do
  grep -q "$1" "$f" 2>/dev/null || continue
  d=${f%/cgroup}
  grep -qE '^NSpid:.*[[:space:]]1$' "$d/status" 2>/dev/null || continue
  echo "pid ${d#/proc/}"
  cat "$f"
  exit 0
done
exit 3`

// Process finds the main process of the container with containerID (as in
// a pod's status, with or without its containerd:// prefix) on node.
func (n *Nodes) Process(ctx context.Context, node, containerID string) (checks.NodeProcess, error) {
	_, id, ok := strings.Cut(containerID, "://")
	if !ok {
		id = containerID
	}
	if len(id) < 12 || strings.Trim(id, "0123456789abcdef") != "" {
		return checks.NodeProcess{}, fmt.Errorf("container ID %q is not one a runtime gives", containerID)
	}
	res, err := n.Exec(ctx, node, []string{"sh", "-c", findScript, "find", id})
	if err != nil {
		return checks.NodeProcess{}, err
	}
	switch res.ExitCode {
	case 0:
	case 3:
		return checks.NodeProcess{}, fmt.Errorf("no process of container %.12s runs on node %s as PID 1 of its own PID namespace (it ended, the pod moved, or the pod shares a PID namespace: shareProcessNamespace, hostPID)", id, node)
	default:
		return checks.NodeProcess{}, fmt.Errorf("looking for container %.12s on node %s: exit %d: %s", id, node, res.ExitCode, strings.TrimSpace(res.Stderr))
	}
	return parseFind(res.Stdout)
}

// parseFind reads findScript's output.
func parseFind(out string) (checks.NodeProcess, error) {
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) < 3 {
		return checks.NodeProcess{}, fmt.Errorf("unexpected answer from the node: %q", out)
	}
	var p checks.NodeProcess
	switch fs := strings.TrimSpace(lines[0]); fs {
	case "cgroup2fs":
		p.CgroupVersion = 2
	case "tmpfs":
		p.CgroupVersion = 1
	default:
		return checks.NodeProcess{}, fmt.Errorf("the node's /sys/fs/cgroup is %q, neither cgroup v2 (cgroup2fs) nor v1 (tmpfs): a layout labs does not know", fs)
	}
	pid, err := strconv.Atoi(strings.TrimPrefix(lines[1], "pid "))
	if err != nil || !strings.HasPrefix(lines[1], "pid ") {
		return checks.NodeProcess{}, fmt.Errorf("unexpected answer from the node: %q", lines[1])
	}
	p.PID = pid
	p.Cgroups, err = ParseProcCgroup(strings.Join(lines[2:], "\n"), p.CgroupVersion)
	if err != nil {
		return checks.NodeProcess{}, err
	}
	return p, nil
}

// ParseProcCgroup turns /proc/PID/cgroup into directories under
// /sys/fs/cgroup: on v1, "4:memory:/kubepods/..." gives memory ->
// /sys/fs/cgroup/memory/kubepods/... (and each controller of a joint
// hierarchy such as cpu,cpuacct its own key); on v2, "0::/kubepods/..."
// gives "" -> /sys/fs/cgroup/kubepods/... The paths are relative to the
// node's cgroup namespace, which is where its /sys/fs/cgroup is mounted.
func ParseProcCgroup(s string, version int) (map[string]string, error) {
	out := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(s), "\n") {
		parts := strings.SplitN(line, ":", 3)
		if len(parts) != 3 {
			return nil, fmt.Errorf("/proc/PID/cgroup line %q is not ID:CONTROLLERS:PATH", line)
		}
		ctrls, p := parts[1], parts[2]
		switch {
		case version == 2 && parts[0] == "0" && ctrls == "":
			out[""] = path.Join("/sys/fs/cgroup", p)
		case version == 1 && ctrls != "" && !strings.HasPrefix(ctrls, "name="):
			for _, c := range strings.Split(ctrls, ",") {
				out[c] = path.Join("/sys/fs/cgroup", ctrls, p)
			}
		}
	}
	if version == 2 && out[""] == "" {
		return nil, errors.New("no cgroup v2 path (0::/...) in /proc/PID/cgroup")
	}
	if version == 1 && (out["cpu"] == "" || out["memory"] == "") {
		return nil, errors.New("no cpu or memory controller in /proc/PID/cgroup on a cgroup v1 node")
	}
	return out, nil
}
