package runner

import (
	"context"
	"fmt"
	"time"

	"k8s.io/client-go/kubernetes"

	"github.com/labs-dev/labs/runner/images"
)

// ensureCluster makes sure the lab cluster runs, is healthy and has the
// workload images: it creates the cluster when missing and reuses it
// otherwise. It holds the state lock while it works.
func (r *Runner) ensureCluster(ctx context.Context) (c kubernetes.Interface, err error) {
	release, err := r.lock(ctx)
	if err != nil {
		return nil, err
	}
	defer release()
	if err := r.Docker.Preflight(ctx); err != nil {
		return nil, err
	}
	exists, err := r.Cluster.Exists()
	if err != nil {
		return nil, err
	}
	if exists {
		r.Display.Status(fmt.Sprintf("reusing cluster %s", r.Cluster.Name()))
		if err := r.Cluster.WriteKubeconfig(); err != nil {
			return nil, fmt.Errorf("cluster %s exists but is not usable (%v); run `labs down` then `labs start` again", r.Cluster.Name(), err)
		}
	} else {
		r.Display.Status(fmt.Sprintf("creating cluster %s (1 control-plane, 2 workers); the first time takes a minute", r.Cluster.Name()))
		if err := r.Cluster.Create(ctx, r.NodeImage); err != nil {
			return nil, err
		}
		// A cluster made by this call that never became usable (Ctrl-C,
		// nodes not Ready, images not loaded) is removed again.
		defer func() {
			if err == nil {
				return
			}
			r.Display.Status(fmt.Sprintf("removing the unfinished cluster %s", r.Cluster.Name()))
			if derr := r.Cluster.Delete(); derr != nil {
				err = fmt.Errorf("%w (and removing the unfinished cluster failed: %v)", err, derr)
			}
		}()
	}
	c, err = r.client()
	if err != nil {
		return nil, err
	}
	if exists {
		_, err := c.CoreV1().RESTClient().Get().AbsPath("/readyz").Timeout(15 * time.Second).DoRaw(ctx)
		if err != nil {
			return nil, fmt.Errorf("cluster %s exists but its API server does not answer (%v); run `labs down` then `labs start` again", r.Cluster.Name(), err)
		}
	}
	if err := r.waitNodesReady(ctx, c, r.Nodes, 3*time.Minute); err != nil {
		return nil, err
	}
	if err := r.loadImages(ctx); err != nil {
		return nil, err
	}
	r.Display.Done(fmt.Sprintf("cluster %s is ready (kubeconfig %s)", r.Cluster.Name(), r.Paths.Kubeconfig()))
	return c, nil
}

// loadImages builds the workload images and imports them into every node:
// labs never pulls.
func (r *Runner) loadImages(ctx context.Context) error {
	start := time.Now()
	archive, err := images.Archive()
	if err != nil {
		return fmt.Errorf("building the workload image: %w", err)
	}
	r.Display.Status(fmt.Sprintf("loading images %v (linux/amd64+arm64, %d KiB) into the nodes", images.Tags(), len(archive)>>10))
	if err := r.Cluster.LoadImageArchive(ctx, archive); err != nil {
		return fmt.Errorf("loading the workload image: %w", err)
	}
	r.Display.Done(fmt.Sprintf("images loaded in %.1fs", time.Since(start).Seconds()))
	return nil
}

// Down deletes the cluster and its kubeconfig. Progress files stay, so a
// later start resumes each lab where it was.
func (r *Runner) Down(ctx context.Context) error {
	release, err := r.lock(ctx)
	if err != nil {
		return err
	}
	defer release()
	if err := r.Docker.Preflight(ctx); err != nil {
		return err
	}
	exists, err := r.Cluster.Exists()
	if err != nil {
		return err
	}
	if !exists {
		r.Display.Done(fmt.Sprintf("no cluster %s: nothing to delete", r.Cluster.Name()))
		return r.Cluster.Delete() // still removes a stale kubeconfig
	}
	r.Display.Status(fmt.Sprintf("deleting cluster %s", r.Cluster.Name()))
	if err := r.Cluster.Delete(); err != nil {
		return err
	}
	r.Display.Done(fmt.Sprintf("cluster %s deleted", r.Cluster.Name()))
	return nil
}
