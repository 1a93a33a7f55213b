// Package kindcluster is the only place that talks to kind. It creates,
// deletes and loads images into one named cluster through kind's Go library,
// and stops and starts its node containers through the Docker adapter.
package kindcluster

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"sigs.k8s.io/kind/pkg/apis/config/defaults"
	"sigs.k8s.io/kind/pkg/cluster"
	"sigs.k8s.io/kind/pkg/cluster/nodes"
	"sigs.k8s.io/kind/pkg/cluster/nodeutils"
	"sigs.k8s.io/kind/pkg/log"

	"github.com/labs-dev/labs/runner/docker"
)

// DefaultNodeImage is kind's own default node image (pulled on first use).
const DefaultNodeImage = defaults.Image

// config is 1 control-plane and 2 workers: enough to see pods spread,
// rescheduled and drained.
const config = `kind: Cluster
apiVersion: kind.x-k8s.io/v1alpha4
nodes:
- role: control-plane
- role: worker
- role: worker
`

// Cluster is one kind cluster.
type Cluster struct {
	name       string
	kubeconfig string
	status     func(string)
	provider   *cluster.Provider
	engine     *docker.Engine
}

// Option configures a Cluster.
type Option func(*Cluster)

// WithStatus receives kind's progress lines ("Preparing nodes", ...).
func WithStatus(f func(string)) Option { return func(c *Cluster) { c.status = f } }

// New returns the cluster called name whose kubeconfig lives at kubeconfig,
// its node containers reached through engine. Nothing is created until
// Create.
func New(name, kubeconfig string, engine *docker.Engine, opts ...Option) *Cluster {
	c := &Cluster{name: name, kubeconfig: kubeconfig, engine: engine, status: func(string) {}}
	for _, o := range opts {
		o(c)
	}
	c.provider = cluster.NewProvider(cluster.ProviderWithDocker(), cluster.ProviderWithLogger(&logger{c: c}))
	return c
}

// Name is the kind cluster name.
func (c *Cluster) Name() string { return c.name }

// NodeNames are the node containers the cluster has when it is whole, as
// kind names them: NAME-control-plane, NAME-worker, NAME-worker2.
func (c *Cluster) NodeNames() []string {
	return []string{c.name + "-control-plane", c.name + "-worker", c.name + "-worker2"}
}

// clusterLabel is how kind marks every container of a cluster.
const clusterLabel = "io.x-k8s.kind.cluster"

// Nodes lists the cluster's node containers, running or stopped.
func (c *Cluster) Nodes(ctx context.Context) ([]docker.Container, error) {
	return c.engine.ContainersWithLabel(ctx, clusterLabel, c.name)
}

// StartNodes starts the node containers that are not running: the
// control-plane first, so the workers' kubelets find their API server, then
// the workers together.
func (c *Cluster) StartNodes(ctx context.Context) error {
	ns, err := c.Nodes(ctx)
	if err != nil {
		return err
	}
	var workers []docker.Container
	for _, n := range ns {
		if !isControlPlane(n) {
			workers = append(workers, n)
			continue
		}
		if err := c.engine.Start(ctx, n); err != nil {
			return err
		}
	}
	return c.each(workers, func(n docker.Container) error { return c.engine.Start(ctx, n) })
}

// WaitRuntimes returns once every node container of the cluster runs and
// the container runtime in it (containerd) answers: from then on images
// load into a node, while kind is still setting Kubernetes up in it. kind
// has no hook for that moment, so the engine is asked every 250 ms.
func (c *Cluster) WaitRuntimes(ctx context.Context) error {
	ready := map[string]bool{}
	t := time.NewTicker(250 * time.Millisecond)
	defer t.Stop()
	for {
		if ns, err := c.Nodes(ctx); err == nil {
			for _, n := range ns {
				if ready[n.Name] || !n.Running() {
					continue
				}
				if res, err := c.engine.Exec(ctx, n.Name, []string{"ctr", "version"}); err == nil && res.ExitCode == 0 {
					ready[n.Name] = true
				}
			}
			all := true
			for _, name := range c.NodeNames() {
				all = all && ready[name]
			}
			if all {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
}

// each runs fn on every node at once and joins the errors.
func (c *Cluster) each(ns []docker.Container, fn func(docker.Container) error) error {
	errs := make([]error, len(ns))
	var wg sync.WaitGroup
	for i, n := range ns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = fn(n)
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// StopNodes stops every node container at once. A node's systemd gets the
// grace period to shut down; the API server's own graceful shutdown waits
// for open watches far longer, so the control-plane usually ends by SIGKILL,
// which etcd is built to survive.
func (c *Cluster) StopNodes(ctx context.Context, grace time.Duration) error {
	ns, err := c.Nodes(ctx)
	if err != nil {
		return err
	}
	var running []docker.Container
	for _, n := range ns {
		if n.State != "exited" && n.State != "created" && n.State != "dead" {
			running = append(running, n)
		}
	}
	return c.each(running, func(n docker.Container) error { return c.engine.Stop(ctx, n, grace) })
}

func isControlPlane(n docker.Container) bool {
	return n.Labels["io.x-k8s.kind.role"] == "control-plane"
}

// Exists reports whether kind knows a cluster of this name.
func (c *Cluster) Exists() (bool, error) {
	names, err := c.provider.List()
	if err != nil {
		return false, fmt.Errorf("listing kind clusters: %w", err)
	}
	for _, n := range names {
		if n == c.name {
			return true, nil
		}
	}
	return false, nil
}

// Create makes the cluster with nodeImage (kind's default when empty) and
// writes its kubeconfig. kind takes no context, so on cancellation Create
// waits for kind to return. On failure whatever kind made is left for the
// caller to delete (the runner thaws a node that will not stop).
func (c *Cluster) Create(ctx context.Context, nodeImage string) error {
	if err := os.MkdirAll(filepath.Dir(c.kubeconfig), 0o700); err != nil {
		return fmt.Errorf("creating config dir: %w", err)
	}
	opts := []cluster.CreateOption{
		cluster.CreateWithRawConfig([]byte(config)),
		cluster.CreateWithKubeconfigPath(c.kubeconfig),
		cluster.CreateWithRetain(false),
		cluster.CreateWithDisplayUsage(false),
		cluster.CreateWithDisplaySalutation(false),
	}
	if nodeImage != "" {
		opts = append(opts, cluster.CreateWithNodeImage(nodeImage))
	}
	done := make(chan error, 1)
	go func() { done <- c.provider.Create(c.name, opts...) }()
	var err error
	select {
	case err = <-done:
		if err == nil && ctx.Err() != nil {
			err = ctx.Err()
		}
	case <-ctx.Done():
		c.status("interrupted: waiting for kind to stop, then removing the half-made cluster (Ctrl-C again quits at once; `labs down` then removes what is left)")
		<-done
		err = ctx.Err()
	}
	if err != nil {
		return fmt.Errorf("creating cluster %q: %w", c.name, err)
	}
	return os.Chmod(c.kubeconfig, 0o600)
}

// WriteKubeconfig (re)writes the kubeconfig of an existing cluster, mode 0600.
func (c *Cluster) WriteKubeconfig() error {
	cfg, err := c.provider.KubeConfig(c.name, false)
	if err != nil {
		return fmt.Errorf("reading kubeconfig of cluster %q: %w", c.name, err)
	}
	if err := os.MkdirAll(filepath.Dir(c.kubeconfig), 0o700); err != nil {
		return err
	}
	tmp := c.kubeconfig + ".tmp"
	if err := os.WriteFile(tmp, []byte(cfg), 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, c.kubeconfig)
}

// Delete removes the cluster's containers and its kubeconfig file. Deleting a
// cluster that does not exist is not an error.
func (c *Cluster) Delete() error {
	if err := c.provider.Delete(c.name, c.kubeconfig); err != nil {
		return fmt.Errorf("deleting cluster %q: %w", c.name, err)
	}
	if err := os.Remove(c.kubeconfig); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	return nil
}

// LoadImageArchive imports an image tarball into the containerd of the
// named node containers, in parallel.
func (c *Cluster) LoadImageArchive(ctx context.Context, archive []byte, names []string) error {
	all, err := c.provider.ListInternalNodes(c.name)
	if err != nil {
		return fmt.Errorf("listing nodes of cluster %q: %w", c.name, err)
	}
	var ns []nodes.Node
	for _, n := range all {
		if slices.Contains(names, n.String()) {
			ns = append(ns, n)
		}
	}
	if len(ns) != len(names) {
		return fmt.Errorf("expected cluster %q to have the nodes %v; found %d of them (one was removed behind labs' back): `labs down` then `labs start LAB` rebuilds it (your progress is kept)", c.name, names, len(ns))
	}
	errs := make([]error, len(ns))
	var wg sync.WaitGroup
	for i, n := range ns {
		wg.Add(1)
		go func(i int, n nodes.Node) {
			defer wg.Done()
			if err := nodeutils.LoadImageArchive(n, bytes.NewReader(archive)); err != nil {
				errs[i] = fmt.Errorf("loading image into node %s: %w", n, err)
			}
		}(i, n)
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return err
	}
	return errors.Join(errs...)
}

// logger turns kind's status lines into calls of status, dropping the
// decoration kind adds for its own terminal output.
type logger struct{ c *Cluster }

func (l *logger) Warn(m string)                    { l.c.status("warning: " + m) }
func (l *logger) Warnf(f string, a ...interface{}) { l.Warn(fmt.Sprintf(f, a...)) }
func (l *logger) Error(m string)                   { l.c.status("error: " + m) }
func (l *logger) Errorf(f string, a ...interface{}) {
	l.Error(fmt.Sprintf(f, a...))
}
func (l *logger) V(level log.Level) log.InfoLogger {
	if level > 0 {
		return log.NoopInfoLogger{}
	}
	return infoLogger{l.c}
}

type infoLogger struct{ c *Cluster }

func (i infoLogger) Enabled() bool { return true }
func (i infoLogger) Info(m string) {
	m = strings.TrimSpace(m)
	// kind prints " • Step ..." when a step starts and " ✓ Step" when it
	// ends; keep the start lines, our display times them.
	if strings.HasPrefix(m, "✓") || strings.HasPrefix(m, "✗") || m == "" {
		return
	}
	m = strings.TrimSpace(strings.TrimSuffix(strings.TrimPrefix(m, "•"), "..."))
	i.c.status(m)
}
func (i infoLogger) Infof(f string, a ...interface{}) { i.Info(fmt.Sprintf(f, a...)) }
