// Package docker reaches the Docker engine through its SDK: the preflight
// that tells a learner Docker is missing or stopped, the node containers'
// lifecycle (list, stop, start), commands run inside them, and facts about
// the engine for `labs doctor`.
package docker

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/client"
	"github.com/docker/docker/errdefs"
	"github.com/docker/docker/pkg/stdcopy"
)

var (
	// ErrNotInstalled means there is no docker command (kind drives it).
	ErrNotInstalled = errors.New("docker is not installed")
	// ErrNotRunning means the docker command exists but no engine answers.
	ErrNotRunning = errors.New("docker is not running")
)

// Engine is a Docker engine reached with API version negotiation, since a
// laptop's engine may be older or newer than the SDK. The client is made on
// first use, so commands that never need Docker never read DOCKER_HOST.
type Engine struct {
	once sync.Once
	cli  *client.Client
	err  error
}

// New returns an Engine for the environment's DOCKER_HOST (or the default
// socket). Nothing is contacted or parsed yet.
func New() *Engine { return &Engine{} }

func (e *Engine) client() (*client.Client, error) {
	e.once.Do(func() {
		e.cli, e.err = client.NewClientWithOpts(client.FromEnv, client.WithAPIVersionNegotiation())
		if e.err != nil {
			e.err = fmt.Errorf("%w: the Docker client cannot be set up (%v); check DOCKER_HOST", ErrNotRunning, e.err)
		}
	})
	return e.cli, e.err
}

// Close releases the client, if one was made.
func (e *Engine) Close() error {
	if e.cli == nil {
		return nil
	}
	return e.cli.Close()
}

// Preflight checks that the docker command exists and the engine answers.
func (e *Engine) Preflight(ctx context.Context) error {
	if _, err := exec.LookPath("docker"); err != nil {
		return fmt.Errorf("%w: install Docker Desktop (macOS, Windows) or docker.io / docker-ce (Linux), then try again", ErrNotInstalled)
	}
	cli, err := e.client()
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if _, err := cli.Ping(ctx); err != nil {
		return fmt.Errorf("%w: no engine answers at %s; start Docker Desktop (or `sudo systemctl start docker`) and try again", ErrNotRunning, cli.DaemonHost())
	}
	return nil
}

// Container is a container as labs needs to know it.
type Container struct {
	ID     string
	Name   string
	Image  string
	State  string // created, running, paused, restarting, exited, dead
	Labels map[string]string
	// StartedAt is when the container last started, by the engine's clock
	// (on Docker Desktop the VM's, which may differ from this machine's).
	StartedAt time.Time
}

// Running reports whether the container's processes run.
func (c Container) Running() bool { return c.State == "running" }

// ContainersWithLabel lists every container, running or not, that carries
// label key=value, sorted by name.
func (e *Engine) ContainersWithLabel(ctx context.Context, key, value string) ([]Container, error) {
	cli, err := e.client()
	if err != nil {
		return nil, err
	}
	list, err := cli.ContainerList(ctx, container.ListOptions{All: true, Filters: filters.NewArgs(filters.Arg("label", key+"="+value))})
	if err != nil {
		return nil, fmt.Errorf("listing containers labelled %s=%s: %w", key, value, err)
	}
	out := make([]Container, 0, len(list))
	for _, s := range list {
		name := s.ID
		if len(s.Names) > 0 {
			name = strings.TrimPrefix(s.Names[0], "/")
		}
		c := Container{ID: s.ID, Name: name, Image: s.Image, State: string(s.State), Labels: s.Labels}
		if ins, err := cli.ContainerInspect(ctx, s.ID); err == nil && ins.State != nil {
			c.StartedAt, _ = time.Parse(time.RFC3339Nano, ins.State.StartedAt)
		}
		out = append(out, c)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// Start starts a stopped container, or unpauses a paused one.
func (e *Engine) Start(ctx context.Context, c Container) error {
	cli, err := e.client()
	if err != nil {
		return err
	}
	switch c.State {
	case "running", "restarting":
		return nil
	case "paused":
		err = cli.ContainerUnpause(ctx, c.ID)
	default:
		err = cli.ContainerStart(ctx, c.ID, container.StartOptions{})
	}
	if err != nil {
		return fmt.Errorf("starting container %s: %w", c.Name, err)
	}
	return nil
}

// Stop stops a container, killing it after grace.
func (e *Engine) Stop(ctx context.Context, c Container, grace time.Duration) error {
	cli, err := e.client()
	if err != nil {
		return err
	}
	secs := int(grace.Seconds())
	if err := cli.ContainerStop(ctx, c.ID, container.StopOptions{Timeout: &secs}); err != nil && !errdefs.IsNotFound(err) {
		return fmt.Errorf("stopping container %s: %w", c.Name, err)
	}
	return nil
}

// ExecResult is what a command run in a container printed and returned.
type ExecResult struct {
	Stdout   string
	Stderr   string
	ExitCode int
}

// Exec runs cmd in a running container (what `docker exec` does) and waits
// for it.
func (e *Engine) Exec(ctx context.Context, name string, cmd []string) (ExecResult, error) {
	cli, err := e.client()
	if err != nil {
		return ExecResult{}, err
	}
	created, err := cli.ContainerExecCreate(ctx, name, container.ExecOptions{Cmd: cmd, AttachStdout: true, AttachStderr: true})
	if err != nil {
		return ExecResult{}, fmt.Errorf("exec in %s: %w", name, err)
	}
	att, err := cli.ContainerExecAttach(ctx, created.ID, container.ExecAttachOptions{})
	if err != nil {
		return ExecResult{}, fmt.Errorf("exec in %s: %w", name, err)
	}
	defer att.Close()
	var out, errOut bytes.Buffer
	copied := make(chan error, 1)
	go func() { _, err := stdcopy.StdCopy(&out, &errOut, att.Reader); copied <- err }()
	select {
	case err = <-copied:
	case <-ctx.Done():
		return ExecResult{}, ctx.Err()
	}
	if err != nil {
		return ExecResult{}, fmt.Errorf("exec in %s: reading output: %w", name, err)
	}
	ins, err := cli.ContainerExecInspect(ctx, created.ID)
	if err != nil {
		return ExecResult{}, fmt.Errorf("exec in %s: %w", name, err)
	}
	return ExecResult{Stdout: out.String(), Stderr: errOut.String(), ExitCode: ins.ExitCode}, nil
}

// Stdio is a terminal (or pipes) attached to an interactive command.
type Stdio struct {
	In          io.Reader
	Out, ErrOut io.Writer
	// TTY gives the command a terminal of Width x Height (the caller puts
	// its own terminal in raw mode).
	TTY           bool
	Width, Height uint
}

// ExecInteractive runs cmd in a running container with stdin attached
// (what `docker exec -it` does) and returns its exit code.
func (e *Engine) ExecInteractive(ctx context.Context, name string, cmd []string, sio Stdio) (int, error) {
	cli, err := e.client()
	if err != nil {
		return 0, err
	}
	created, err := cli.ContainerExecCreate(ctx, name, container.ExecOptions{Cmd: cmd, AttachStdin: true, AttachStdout: true, AttachStderr: true, Tty: sio.TTY})
	if err != nil {
		return 0, fmt.Errorf("exec in %s: %w", name, err)
	}
	att, err := cli.ContainerExecAttach(ctx, created.ID, container.ExecAttachOptions{Tty: sio.TTY})
	if err != nil {
		return 0, fmt.Errorf("exec in %s: %w", name, err)
	}
	defer att.Close()
	if sio.TTY && sio.Width > 0 {
		_ = cli.ContainerExecResize(ctx, created.ID, container.ResizeOptions{Width: sio.Width, Height: sio.Height})
	}
	go func() {
		_, _ = io.Copy(att.Conn, sio.In)
		_ = att.CloseWrite()
	}()
	done := make(chan error, 1)
	go func() {
		var err error
		if sio.TTY {
			_, err = io.Copy(sio.Out, att.Reader)
		} else {
			_, err = stdcopy.StdCopy(sio.Out, sio.ErrOut, att.Reader)
		}
		done <- err
	}()
	select {
	case <-done:
	case <-ctx.Done():
		return 0, ctx.Err()
	}
	ins, err := cli.ContainerExecInspect(ctx, created.ID)
	if err != nil {
		return 0, fmt.Errorf("exec in %s: %w", name, err)
	}
	return ins.ExitCode, nil
}

// inspect is what Docker knows of container name.
func (e *Engine) inspect(ctx context.Context, name string) (container.InspectResponse, error) {
	cli, err := e.client()
	if err != nil {
		return container.InspectResponse{}, err
	}
	ins, err := cli.ContainerInspect(ctx, name)
	if err != nil {
		return container.InspectResponse{}, fmt.Errorf("inspecting %s: %w", name, err)
	}
	return ins, nil
}

// MemoryLimit is a container's memory limit in bytes (0: none).
func (e *Engine) MemoryLimit(ctx context.Context, name string) (int64, error) {
	ins, err := e.inspect(ctx, name)
	if err != nil {
		return 0, err
	}
	if ins.HostConfig == nil {
		return 0, nil
	}
	return ins.HostConfig.Memory, nil
}

// SetMemoryLimit limits a running container's memory to bytes, swap
// included (memory+swap equal to memory: pressure ends in the OOM killer,
// not in swapping).
func (e *Engine) SetMemoryLimit(ctx context.Context, name string, bytes int64) error {
	cli, err := e.client()
	if err != nil {
		return err
	}
	_, err = cli.ContainerUpdate(ctx, name, container.UpdateConfig{Resources: container.Resources{Memory: bytes, MemorySwap: bytes}})
	if err != nil {
		return fmt.Errorf("limiting the memory of %s: %w", name, err)
	}
	return nil
}

// Facts are what `labs doctor` reports about the engine.
type Facts struct {
	ServerVersion string
	APIVersion    string
	OS            string
	Arch          string
	CPUs          int
	MemoryBytes   int64
	CgroupVersion string // "1" or "2"
	CgroupDriver  string
	RootDir       string // where images and containers live (on the engine's host)
	Host          string // DOCKER_HOST or the default socket
}

// Facts asks the engine about itself.
func (e *Engine) Facts(ctx context.Context) (Facts, error) {
	cli, err := e.client()
	if err != nil {
		return Facts{}, err
	}
	info, err := cli.Info(ctx)
	if err != nil {
		return Facts{}, fmt.Errorf("asking the Docker engine for its facts: %w", err)
	}
	return Facts{
		ServerVersion: info.ServerVersion, APIVersion: cli.ClientVersion(), OS: info.OperatingSystem, Arch: info.Architecture,
		CPUs: info.NCPU, MemoryBytes: info.MemTotal, CgroupVersion: info.CgroupVersion, CgroupDriver: info.CgroupDriver,
		RootDir: info.DockerRootDir, Host: cli.DaemonHost(),
	}, nil
}

// ImagePresent reports whether the engine holds image ref.
func (e *Engine) ImagePresent(ctx context.Context, ref string) (bool, error) {
	cli, err := e.client()
	if err != nil {
		return false, err
	}
	_, err = cli.ImageInspect(ctx, ref)
	switch {
	case err == nil:
		return true, nil
	case errdefs.IsNotFound(err):
		return false, nil
	}
	return false, fmt.Errorf("looking up image %s: %w", ref, err)
}

// RunOnce runs cmd in a new privileged container of image (entrypoint
// replaced, no network), as kind runs its nodes, waits for it and removes
// it. Nothing is pulled: a missing image is an error.
func (e *Engine) RunOnce(ctx context.Context, image string, cmd []string) (ExecResult, error) {
	return e.runHelper(ctx, image, cmd, &container.HostConfig{NetworkMode: "none", Privileged: true})
}

// runHelper runs cmd as the entrypoint of a new container of image with
// host, waits for it to end, removes it and returns its output.
func (e *Engine) runHelper(ctx context.Context, image string, cmd []string, host *container.HostConfig) (ExecResult, error) {
	cli, err := e.client()
	if err != nil {
		return ExecResult{}, err
	}
	created, err := cli.ContainerCreate(ctx, &container.Config{Image: image, Entrypoint: cmd[:1], Cmd: cmd[1:], Labels: map[string]string{"app.kubernetes.io/managed-by": "labs"}}, host, nil, nil, "")
	if err != nil {
		return ExecResult{}, fmt.Errorf("creating a container of %s: %w", image, err)
	}
	defer func() {
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		_ = cli.ContainerRemove(rctx, created.ID, container.RemoveOptions{Force: true})
	}()
	waitC, errC := cli.ContainerWait(ctx, created.ID, container.WaitConditionNextExit)
	if err := cli.ContainerStart(ctx, created.ID, container.StartOptions{}); err != nil {
		return ExecResult{}, fmt.Errorf("starting a container of %s: %w", image, err)
	}
	var code int64
	select {
	case w := <-waitC:
		code = w.StatusCode
	case err := <-errC:
		return ExecResult{}, fmt.Errorf("waiting for a container of %s: %w", image, err)
	}
	logs, err := cli.ContainerLogs(ctx, created.ID, container.LogsOptions{ShowStdout: true, ShowStderr: true})
	if err != nil {
		return ExecResult{}, fmt.Errorf("reading a container's output: %w", err)
	}
	defer logs.Close()
	var out, errOut bytes.Buffer
	if _, err := stdcopy.StdCopy(&out, &errOut, logs); err != nil {
		return ExecResult{}, fmt.Errorf("reading a container's output: %w", err)
	}
	return ExecResult{Stdout: out.String(), Stderr: errOut.String(), ExitCode: int(code)}, nil
}

// ThawCgroups thaws every frozen cgroup at or below container name's own,
// from a helper container of image that sees the engine's cgroups (on
// Docker Desktop, the VM's), and says how many it thawed. For a node
// container Docker cannot stop: a process in a frozen cgroup cannot die,
// and runc can leave a container's cgroup frozen when it is killed while
// starting it. cgroup v1 (freezer.state) and v2 (cgroup.freeze).
func (e *Engine) ThawCgroups(ctx context.Context, name, image string) (int, error) {
	ins, err := e.inspect(ctx, name)
	if err != nil {
		return 0, err
	}
	res, err := e.runHelper(ctx, image, []string{"sh", "-c", thawScript, "thaw", ins.ID},
		&container.HostConfig{NetworkMode: "none", Privileged: true, Binds: []string{"/sys/fs/cgroup:/host-cgroup"}})
	if err != nil {
		return 0, err
	}
	var n int
	if _, err := fmt.Sscan(strings.TrimSpace(res.Stdout), &n); err != nil || res.ExitCode != 0 {
		return 0, fmt.Errorf("thawing the cgroups of %s: exit %d: %s%s", name, res.ExitCode, res.Stdout, res.Stderr)
	}
	return n, nil
}

// thawScript: $1 is a container's full ID; its cgroups are the engine
// host's directories named after it (v1: freezer/docker/ID, v2:
// system.slice/docker-ID.scope or docker/ID), under /host-cgroup. Thaw
// what is frozen below them and print how many.
const thawScript = `n=0
for d in $(find /host-cgroup -maxdepth 4 -type d -name "*$1*" 2>/dev/null); do
  for f in $(find "$d" -name freezer.state); do
    if [ "$(cat "$f")" != THAWED ]; then echo THAWED > "$f" && n=$((n+1)); fi
  done
  for f in $(find "$d" -name cgroup.freeze); do
    if [ "$(cat "$f")" = 1 ]; then echo 0 > "$f" && n=$((n+1)); fi
  done
done
echo $n`
