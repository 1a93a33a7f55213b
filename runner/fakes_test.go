package runner

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/labs-dev/labs/runner/docker"
)

// fakeCluster is a kind cluster of one node container, labs-test-control-plane.
type fakeCluster struct {
	// mu guards nodes: the image load of a new cluster reads them while
	// Create runs.
	mu      sync.Mutex
	nodes   []docker.Container
	created string
	loaded  int
	started int
	// loadedInto are the nodes of the last image load; archiveSize its size.
	loadedInto  []string
	archiveSize int
	ids         int
	// kubeconfigWrites counts WriteKubeconfig calls.
	kubeconfigWrites int
	// kubeconfig, if set, is rewritten by WriteKubeconfig as kind does:
	// a fresh file, without a namespace.
	kubeconfig string
}

const fakeNode = "labs-test-control-plane"

func (f *fakeCluster) Name() string        { return "labs-test" }
func (f *fakeCluster) NodeNames() []string { return []string{fakeNode} }
func (f *fakeCluster) WriteKubeconfig() error {
	f.kubeconfigWrites++
	if f.kubeconfig == "" {
		return nil
	}
	return os.WriteFile(f.kubeconfig, []byte(kubeconfig), 0o600)
}
func (f *fakeCluster) Delete() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.nodes = nil
	return nil
}
func (f *fakeCluster) Nodes(context.Context) ([]docker.Container, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]docker.Container(nil), f.nodes...), nil
}
func (f *fakeCluster) Create(ctx context.Context, image string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.ids++
	f.nodes = []docker.Container{{ID: fmt.Sprintf("id%d", f.ids), Name: fakeNode, State: "running"}}
	f.created = image
	return nil
}

// WaitRuntimes returns once the node runs, as kind's does.
func (f *fakeCluster) WaitRuntimes(ctx context.Context) error {
	for {
		ns, _ := f.Nodes(ctx)
		if len(ns) > 0 && ns[0].Running() {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(5 * time.Millisecond):
		}
	}
}
func (f *fakeCluster) StartNodes(context.Context) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	for i := range f.nodes {
		f.nodes[i].State = "running"
	}
	f.started++
	return nil
}
func (f *fakeCluster) StopNodes(context.Context, time.Duration) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	for i := range f.nodes {
		f.nodes[i].State = "exited"
	}
	return nil
}
func (f *fakeCluster) LoadImageArchive(ctx context.Context, archive []byte, nodes []string) error {
	if len(archive) == 0 {
		return errors.New("empty archive")
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.loaded++
	f.loadedInto, f.archiveSize = nodes, len(archive)
	return nil
}

// fakeDocker answers like an engine on a cgroup v1 machine without
// CAP_SYS_RESOURCE (this project's CI machine).
type fakeDocker struct {
	err error
	// execOut maps a command's first word to its output.
	execOut map[string]string
	image   bool
	// limits are the node containers' memory limits (nil: none set).
	limits map[string]int64
	// thawed is what ThawCgroups thaws in each container.
	thawed int
}

func (f fakeDocker) MemoryLimit(_ context.Context, c string) (int64, error) {
	return f.limits[c], f.err
}
func (f fakeDocker) SetMemoryLimit(_ context.Context, c string, b int64) error {
	if f.limits == nil {
		return errors.New("fakeDocker: no limits map")
	}
	f.limits[c] = b
	return f.err
}

func (f fakeDocker) Preflight(context.Context) error { return f.err }
func (f fakeDocker) Facts(context.Context) (docker.Facts, error) {
	return docker.Facts{ServerVersion: "20.10.24", APIVersion: "1.41", OS: "Debian GNU/Linux 12", Arch: "x86_64", CPUs: 2, MemoryBytes: 24 << 30,
		CgroupVersion: "1", CgroupDriver: "cgroupfs", RootDir: "/nonexistent/docker", Host: "unix:///var/run/docker.sock"}, f.err
}
func (f fakeDocker) Exec(_ context.Context, _ string, cmd []string) (docker.ExecResult, error) {
	key := cmd[0]
	if key == "cat" {
		key = cmd[1]
	}
	out, ok := f.execOut[key]
	if !ok {
		return docker.ExecResult{ExitCode: 1, Stderr: "no such command"}, nil
	}
	return docker.ExecResult{Stdout: out}, nil
}
func (f fakeDocker) ExecInteractive(ctx context.Context, c string, cmd []string, s docker.Stdio) (int, error) {
	res, err := f.Exec(ctx, c, cmd)
	fmt.Fprint(s.Out, res.Stdout)
	return res.ExitCode, err
}
func (f fakeDocker) ImagePresent(context.Context, string) (bool, error) { return f.image, nil }
func (f fakeDocker) ThawCgroups(context.Context, string, string) (int, error) {
	return f.thawed, f.err
}
func (f fakeDocker) RunOnce(ctx context.Context, _ string, cmd []string) (docker.ExecResult, error) {
	return f.Exec(ctx, "", cmd)
}
