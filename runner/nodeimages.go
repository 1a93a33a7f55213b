package runner

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/labs-dev/labs/runner/images"
)

// imagesRecord is the file that says which workload images each node
// container holds: container ID → images.Key. A container ID, not a name:
// a node recreated under the same name is a new container, empty again.
// It lives and goes with the cluster lock's state directory.
func (p Paths) imagesRecord() string { return filepath.Join(p.StateDir, "node-images.json") }

// loadImages builds the workload images for the nodes' architecture and
// imports them into each node that lacks this build's images: labs never
// pulls, and a warm start (every node recorded) builds and loads nothing.
// The caller holds the cluster lock.
func (r *Runner) loadImages(ctx context.Context, c kubernetes.Interface) error {
	key, err := images.Key()
	if err != nil {
		return fmt.Errorf("identifying the workload image: %w", err)
	}
	nodes, err := r.Cluster.Nodes(ctx)
	if err != nil {
		return err
	}
	rec := readImagesRecord(r.Paths.imagesRecord())
	var need []string
	for _, n := range nodes {
		if rec[n.ID] != key || n.ID == "" {
			need = append(need, n.Name)
		}
	}
	if len(need) == 0 {
		return nil
	}
	start := time.Now()
	arches := r.nodeArches(ctx, c)
	archive, err := images.Archive(arches...)
	if err != nil {
		return fmt.Errorf("building the workload image: %w", err)
	}
	what := "all architectures"
	if len(arches) == 1 {
		what = "linux/" + arches[0]
	}
	// A node resumed moments ago may not run its containerd yet (a node
	// being created does by now: the caller waited).
	waitCtx, cancel := context.WithTimeout(ctx, time.Minute)
	err = r.Cluster.WaitRuntimes(waitCtx)
	cancel()
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return fmt.Errorf("loading the workload image: the container runtime of nodes %v did not answer within 1m0s; try `labs down` and `labs start` again", need)
	}
	r.Display.Status(fmt.Sprintf("loading images %v (%s, %d KiB) into %d node(s)", images.Tags(), what, len(archive)>>10, len(need)))
	if err := r.Cluster.LoadImageArchive(ctx, archive, need); err != nil {
		return fmt.Errorf("loading the workload image: %w", err)
	}
	// Only the nodes that exist now are kept: a deleted cluster's IDs go.
	next := map[string]string{}
	for _, n := range nodes {
		if n.ID != "" {
			next[n.ID] = key
		}
	}
	if err := writeImagesRecord(r.Paths.imagesRecord(), next); err != nil {
		// The images are in; the next start loads them again, no harm.
		r.Display.Status(fmt.Sprintf("warning: could not record the loaded images (%v)", err))
	}
	r.Display.Done(fmt.Sprintf("images loaded in %.1fs", time.Since(start).Seconds()))
	return nil
}

// nodeArches is the one architecture the nodes run, as their kubelets
// report it (a node image may run emulated, unlike its engine), else the
// engine's; nil, meaning every architecture, when they differ or labs has
// no workload for theirs.
func (r *Runner) nodeArches(ctx context.Context, c kubernetes.Interface) []string {
	seen := map[string]bool{}
	if c != nil {
		if nodes, err := c.CoreV1().Nodes().List(ctx, metav1.ListOptions{}); err == nil {
			for _, n := range nodes.Items {
				if a := n.Status.NodeInfo.Architecture; a != "" {
					seen[a] = true
				}
			}
		}
	}
	if len(seen) == 0 {
		// No kubelet has reported yet (a cluster being created): a node
		// says what it runs, which an emulated node image makes differ
		// from the engine's.
		if names := r.Cluster.NodeNames(); len(names) > 0 {
			if res, err := r.Docker.Exec(ctx, names[0], []string{"uname", "-m"}); err == nil && res.ExitCode == 0 {
				seen[strings.TrimSpace(res.Stdout)] = true
			}
		}
	}
	if len(seen) == 0 {
		if f, err := r.Docker.Facts(ctx); err == nil {
			seen[f.Arch] = true
		}
	}
	if len(seen) != 1 {
		return nil
	}
	for a := range seen {
		if arch := images.Arch(a); arch != "" {
			return []string{arch}
		}
	}
	return nil
}

// readImagesRecord reads the record; a missing or damaged file is an empty
// record (every node gets the images again), never an error.
func readImagesRecord(path string) map[string]string {
	rec := map[string]string{}
	b, err := os.ReadFile(path)
	if err != nil {
		return rec
	}
	if json.Unmarshal(b, &rec) != nil {
		return map[string]string{}
	}
	return rec
}

func writeImagesRecord(path string, rec map[string]string) error {
	b, err := json.MarshalIndent(rec, "", "  ")
	if err != nil {
		return err
	}
	return writeAtomic(path, append(b, '\n'))
}

// forgetNodeImages drops the record: the next start loads the images into
// every node again (they were removed behind labs' back).
func (r *Runner) forgetNodeImages() error {
	if err := os.Remove(r.Paths.imagesRecord()); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	return nil
}

// imageLoad is a load of the workload images into a cluster being created,
// running alongside kind (startImageLoad).
type imageLoad struct {
	cancel      context.CancelFunc
	stopWaiting context.CancelFunc
	done        chan error
	err         error
	ended       bool
}

// startImageLoad loads the workload images into the new cluster's nodes as
// soon as their containers run and their containerd answers, while kind
// goes on setting Kubernetes up in them. No kubelet has reported its
// node's architecture yet: a node says it (nodeArches).
func (r *Runner) startImageLoad(ctx context.Context) *imageLoad {
	ctx, cancel := context.WithCancel(ctx)
	waitCtx, stopWaiting := context.WithCancel(ctx)
	l := &imageLoad{cancel: cancel, stopWaiting: stopWaiting, done: make(chan error, 1)}
	go func() {
		// Once kind has created the cluster every containerd has run its
		// kubelet: if the runtimes never looked ready to WaitRuntimes (a
		// node image whose ctr fails), the load itself says what is wrong
		// instead of labs waiting for ever.
		err := r.Cluster.WaitRuntimes(waitCtx)
		stopWaiting()
		if err != nil && ctx.Err() != nil {
			l.done <- ctx.Err()
			return
		}
		l.done <- r.loadImages(ctx, nil)
	}()
	return l
}

// kindFinished tells the load that kind has created the cluster: it stops
// waiting for the runtimes to answer and loads.
func (l *imageLoad) kindFinished() { l.stopWaiting() }

// wait returns the load's error once it has ended.
func (l *imageLoad) wait() error {
	if !l.ended {
		l.err, l.ended = <-l.done, true
		l.cancel()
	}
	return l.err
}

// stop ends the load (kind failed or was interrupted) and waits for it, so
// nothing writes to the nodes or the images record afterwards.
func (l *imageLoad) stop() {
	l.cancel()
	_ = l.wait()
}
