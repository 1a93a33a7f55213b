package runner

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
	watchtools "k8s.io/client-go/tools/watch"

	"github.com/labs-dev/labs/runner/docker"
)

// lockCluster takes the cluster lock: one command at a time creates,
// resumes, stops or deletes the cluster.
func (r *Runner) lockCluster(ctx context.Context) (func(), error) {
	return lockFile(ctx, r.Paths.clusterLock(), func() {
		r.Display.Status("another labs command is setting up the cluster; waiting for it to finish (Ctrl-C to give up)")
	})
}

// ensureCluster makes sure the lab cluster runs, is healthy and has the
// workload images: it creates the cluster when missing, starts its node
// containers when they are stopped (`labs stop`, a reboot, a Docker
// restart), and reuses it otherwise. It holds the cluster lock while it
// works.
func (r *Runner) ensureCluster(ctx context.Context) (c kubernetes.Interface, err error) {
	release, err := r.lockCluster(ctx)
	if err != nil {
		return nil, err
	}
	defer release()
	if err := r.Docker.Preflight(ctx); err != nil {
		return nil, err
	}
	nodes, err := r.Cluster.Nodes(ctx)
	if err != nil {
		return nil, err
	}
	exists := len(nodes) > 0
	var restarted map[string]time.Time
	var early *imageLoad
	// The nodes of a cluster created or resumed moments ago are left to
	// become Ready (settle waits for them); refreshed: the kubeconfig was
	// just read anew.
	starting := r.startingRecorded()
	refreshed := false
	if exists {
		if restarted, refreshed, err = r.resume(ctx, nodes); err != nil {
			return nil, err
		}
	} else {
		r.Display.Status(fmt.Sprintf("creating cluster %s (1 control-plane, 2 workers); the first time takes a minute", r.Cluster.Name()))
		// The images load as soon as the node containers run, while kind
		// sets Kubernetes up in them: off the critical path.
		early = r.startImageLoad(ctx)
		if err := r.Cluster.Create(ctx, r.NodeImage); err != nil {
			early.stop()
			// deleteCluster thaws a node that will not stop: Ctrl-C while
			// kind starts pods can leave a container's cgroup frozen.
			if derr := r.deleteCluster(context.WithoutCancel(ctx)); derr != nil {
				// Not wrapping err: an interrupted create whose cleanup
				// failed must say so, not just "interrupted".
				return nil, fmt.Errorf("%v, and removing what kind made failed: %v", err, derr)
			}
			return nil, err
		}
		early.kindFinished()
		_ = os.Remove(r.Paths.resumedRecord()) // a resume of the cluster before this one
		// A cluster made by this call that never became usable (Ctrl-C,
		// images not loaded) is removed again, the image load stopped
		// first.
		defer func() {
			if err == nil {
				return
			}
			early.stop()
			r.Display.Status(fmt.Sprintf("removing the unfinished cluster %s", r.Cluster.Name()))
			if derr := r.deleteCluster(context.WithoutCancel(ctx)); derr != nil {
				err = fmt.Errorf("%w (and removing the unfinished cluster failed: %v)", err, derr)
			}
		}()
	}
	c, err = r.client()
	if exists && !refreshed && (err != nil || r.apiServes(ctx, c, 2*time.Second) != nil) {
		// The kubeconfig kept from before may be stale (a Docker restart
		// can move the API server's port) or damaged: read it anew, then
		// wait.
		if err := r.refreshKubeconfig(); err != nil {
			return nil, err
		}
		c, err = r.client()
	}
	if err != nil {
		return nil, err
	}
	if exists {
		if err := r.waitAPI(ctx, c, 2*time.Minute); err != nil {
			return nil, err
		}
	}
	if early != nil {
		// A new cluster: kind has joined every node, and the images are
		// in once the load ends. The nodes become Ready some seconds later,
		// as their network plugin starts: pods the lab makes meanwhile
		// wait for them, and so do the commands that check or load the
		// cluster (settle). The step shows now.
		if err := early.wait(); err != nil {
			return nil, err
		}
		created := map[string]time.Time{}
		for _, n := range r.Cluster.NodeNames() {
			created[n] = time.Time{}
		}
		if err := r.noteStarting(created, true); err != nil {
			// Without the record no check would wait for them: wait now
			// rather than throw a working cluster away.
			r.Display.Status(fmt.Sprintf("warning: could not record the new cluster (%v): waiting for its nodes now", err))
			if err := r.waitNodesReady(ctx, c, r.Nodes, 3*time.Minute); err != nil {
				return nil, err
			}
		} else {
			r.Display.Status("the nodes are still starting their network (Ready in a few seconds): checks wait for them")
		}
	} else {
		// The images load while the nodes become Ready: each node's
		// containerd runs once the API server answers after a resume.
		loaded := make(chan error, 1)
		loadCtx, stopLoad := context.WithCancel(ctx)
		defer stopLoad()
		go func() { loaded <- r.loadImages(loadCtx, c) }()
		// Nodes started just now become Ready as their network plugin
		// (a system pod) comes back, like a new cluster's: settle waits
		// for them before any check. A running cluster's are Ready.
		if !starting && len(restarted) == 0 {
			if err := r.waitNodesReady(ctx, c, r.Nodes, 3*time.Minute); err != nil {
				stopLoad()
				<-loaded
				return nil, err
			}
		}
		if err := <-loaded; err != nil {
			return nil, err
		}
	}
	// After a resume the system pods are still coming back: the commands
	// that check or load the cluster wait for them (settle), so the step
	// shows now.
	if len(restarted) > 0 {
		r.Display.Status("the nodes and system pods (DNS, network) are still starting after the resume: checks wait for them")
	}
	r.Display.Done(fmt.Sprintf("cluster %s is ready (kubeconfig %s)", r.Cluster.Name(), r.Paths.Kubeconfig()))
	return c, nil
}

// resume starts (or unpauses) the node containers of an existing cluster
// that are not running and refreshes its kubeconfig. It returns the nodes it
// started afresh, whose pods all restart, with when each started, and
// whether it read the kubeconfig anew.
func (r *Runner) resume(ctx context.Context, nodes []docker.Container) (restarted map[string]time.Time, refreshed bool, err error) {
	if missing := r.missingNodes(nodes); len(missing) > 0 {
		return nil, false, r.errMissingNodes(missing)
	}
	var stopped []string
	restarted = map[string]time.Time{}
	for _, n := range nodes {
		if !n.Running() {
			stopped = append(stopped, n.Name)
			if n.State != "paused" {
				restarted[n.Name] = time.Time{}
			}
		}
	}
	if len(stopped) == 0 {
		r.Display.Status(fmt.Sprintf("reusing cluster %s", r.Cluster.Name()))
	} else {
		r.Display.Status(fmt.Sprintf("resuming cluster %s: starting its stopped nodes (%s)", r.Cluster.Name(), strings.Join(stopped, ", ")))
		if err := r.Cluster.StartNodes(ctx); err != nil {
			return nil, false, fmt.Errorf("resuming cluster %s: %w; `labs down` then `labs start LAB` rebuilds it (your progress is kept)", r.Cluster.Name(), err)
		}
		r.Display.Done(fmt.Sprintf("started %s", strings.Join(stopped, ", ")))
		// When each node started, by the engine's clock: the kubelet in it
		// stamps its containers by the same clock.
		if now, err := r.Cluster.Nodes(ctx); err == nil {
			for _, n := range now {
				if _, ok := restarted[n.Name]; ok {
					restarted[n.Name] = n.StartedAt
				}
			}
		}
		// Recorded at once: a start interrupted from here on finds the
		// nodes running, and only this record says their pods restart.
		if len(restarted) > 0 {
			if err := r.noteStarting(restarted, false); err != nil {
				return nil, false, fmt.Errorf("recording the resume: %w", err)
			}
		}
	}
	// Nodes that ran all along keep their API server's address: the
	// kubeconfig labs wrote stands (ensureCluster rewrites it should the
	// API server not answer through it). Reading it anew from kind costs
	// two docker commands, most of a warm start.
	if len(stopped) == 0 {
		if _, err := os.Stat(r.Paths.Kubeconfig()); err == nil {
			return restarted, false, nil
		}
	}
	if err := r.refreshKubeconfig(); err != nil {
		return nil, false, err
	}
	return restarted, true, nil
}

// refreshKubeconfig writes the cluster's kubeconfig afresh from kind,
// keeping the namespace the learner's `labs kubectl` defaults to (the
// current lab's).
func (r *Runner) refreshKubeconfig() error {
	ns := r.kubeconfigNamespace()
	if err := r.Cluster.WriteKubeconfig(); err != nil {
		return fmt.Errorf("cluster %s exists but is not usable (%v); run `labs down` then `labs start LAB` (your progress is kept)", r.Cluster.Name(), err)
	}
	if ns != "" {
		if err := r.writeKubeconfigFor(r.Paths.Kubeconfig(), ns); err != nil {
			return err
		}
	}
	return nil
}

// missingNodes are the node containers a whole cluster has and this one
// lacks (deleted outside labs).
func (r *Runner) missingNodes(nodes []docker.Container) []string {
	have := map[string]bool{}
	for _, n := range nodes {
		have[n.Name] = true
	}
	var missing []string
	for _, name := range r.Cluster.NodeNames() {
		if !have[name] {
			missing = append(missing, name)
		}
	}
	return missing
}

func (r *Runner) errMissingNodes(missing []string) error {
	return fmt.Errorf("cluster %s lacks its node container %s (deleted outside labs, e.g. by `docker rm`); kind cannot add a node back: `labs down` then `labs start LAB` rebuilds the cluster (your progress is kept)",
		r.Cluster.Name(), strings.Join(missing, ", "))
}

// waitAPI waits for the API server to serve labs' admin (apiServes). It
// cannot watch a server that is not up yet, so it asks four times a second.
func (r *Runner) waitAPI(ctx context.Context, c kubernetes.Interface, timeout time.Duration) error {
	start := time.Now()
	if r.apiServes(ctx, c, 2*time.Second) == nil {
		return nil
	}
	r.Display.Status(fmt.Sprintf("waiting for the API server of cluster %s", r.Cluster.Name()))
	var last error
	err := wait.PollUntilContextTimeout(ctx, 250*time.Millisecond, timeout, true, func(ctx context.Context) (bool, error) {
		last = r.apiServes(ctx, c, 2*time.Second)
		return last == nil, nil
	})
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return fmt.Errorf("cluster %s exists but its API server does not answer after %s (%v); `labs stop` then `labs start LAB` restarts it, `labs down` then `labs start LAB` rebuilds it (your progress is kept)", r.Cluster.Name(), timeout, last)
	}
	r.Display.Done(fmt.Sprintf("API server answers (%.1fs)", time.Since(start).Seconds()))
	return nil
}

// ErrUnreachable means the lab cluster's API server does not answer.
var ErrUnreachable = errors.New("the lab cluster's API server does not answer")

// apiReady asks the API server's /readyz once, within timeout.
func (r *Runner) apiReady(ctx context.Context, c kubernetes.Interface, timeout time.Duration) error {
	_, err := readyz(ctx, c, timeout)
	return err
}

// readyz asks /readyz once; notReady: the server replied with a 5xx
// status (not ready yet, e.g. its last post-start hooks), which waiting
// may change, unlike no answer or a refusal (401, 403).
func readyz(ctx context.Context, c kubernetes.Interface, timeout time.Duration) (notReady bool, err error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	rc := c.Discovery().RESTClient()
	if rc == nil {
		return false, nil // a fake clientset: nothing to ask
	}
	if _, err := rc.Get().AbsPath("/readyz").Timeout(timeout).DoRaw(ctx); err != nil {
		var status apierrors.APIStatus
		notReady := errors.As(err, &status) && status.Status().Code >= 500
		return notReady, fmt.Errorf("%w: %s", ErrUnreachable, shortError(err))
	}
	return false, nil
}

// apiServes asks labs' own cluster, as its admin, for the kube-system
// namespace once, within timeout. After a resume the API server serves
// (it has its data and its authorizer) seconds before /readyz says ok,
// while its last controllers start: what the learner needs is the former.
func (r *Runner) apiServes(ctx context.Context, c kubernetes.Interface, timeout time.Duration) error {
	if c.Discovery().RESTClient() == nil {
		return nil // a fake clientset: nothing to ask
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	if _, err := c.CoreV1().Namespaces().Get(ctx, metav1.NamespaceSystem, metav1.GetOptions{}); err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("%w: %s", ErrUnreachable, shortError(err))
	}
	return nil
}

// reachable is the one sentence a command gives when it needs the cluster
// and the API server does not answer.
func (r *Runner) reachable(ctx context.Context, c kubernetes.Interface, within time.Duration) error {
	if err := awaitReady(ctx, c, within); err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return fmt.Errorf("%w; `labs status` shows what is wrong, `labs start LAB` brings it back", err)
	}
	return nil
}

// awaitReady asks /readyz until it says ok. An API server that answers but
// is not ready yet (labs start shows the step after a resume while its
// last post-start hooks run, for 2-4 s) is asked again every 250 ms until
// within has passed; one that does not answer, or refuses (401, 403),
// fails at once. Each ask gets what is left of within (at least a second),
// so the whole wait stays near within.
func awaitReady(ctx context.Context, c kubernetes.Interface, within time.Duration) error {
	deadline := time.Now().Add(within)
	for {
		notReady, err := readyz(ctx, c, max(time.Until(deadline), time.Second))
		if err == nil || !notReady || time.Now().After(deadline) {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// shortError keeps the cause of a client error and drops the URL noise.
func shortError(err error) string {
	s := err.Error()
	if i := strings.LastIndex(s, ": "); i >= 0 && (strings.Contains(s, "dial tcp") || strings.Contains(s, "Get \"")) {
		s = s[i+2:]
	}
	if strings.Contains(s, "context deadline exceeded") || strings.Contains(s, "Client.Timeout") {
		return "no answer in time"
	}
	return s
}

// waitSystemPods watches kube-system until its pods run again since the
// resume and are Ready: DNS and the network plugin come back after the
// nodes. Right after a resume the API server still shows the statuses from
// before the stop, all Ready, so a pod on a restarted node counts only once
// its containers started after the node did.
func (r *Runner) waitSystemPods(parent context.Context, c kubernetes.Interface, restarted map[string]time.Time, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(parent, timeout)
	defer cancel()
	lw := &cache.ListWatch{
		ListFunc: func(o metav1.ListOptions) (runtime.Object, error) {
			return c.CoreV1().Pods(metav1.NamespaceSystem).List(ctx, o)
		},
		WatchFunc: func(o metav1.ListOptions) (watch.Interface, error) {
			return c.CoreV1().Pods(metav1.NamespaceSystem).Watch(ctx, o)
		},
	}
	last := ""
	var waiting []string
	check := func(store cache.Store) (bool, error) {
		ready, total := 0, 0
		waiting = waiting[:0]
		// One Ready pod of a ReplicaSet (CoreDNS) serves; every pod of a
		// DaemonSet or a static pod is needed on its node.
		replicaSets := map[string]bool{}
		for _, o := range store.List() {
			p := o.(*corev1.Pod)
			if p.Status.Phase == corev1.PodSucceeded || p.Status.Phase == corev1.PodFailed || p.DeletionTimestamp != nil {
				continue
			}
			total++
			since, wasRestarted := restarted[p.Spec.NodeName]
			ok := podReady(p) && (!wasRestarted || startedSince(p, since))
			if ok {
				ready++
			}
			if rs := replicaSetOf(p); rs != "" {
				replicaSets[rs] = replicaSets[rs] || ok
			} else if !ok {
				waiting = append(waiting, p.Name)
			}
		}
		for rs, ok := range replicaSets {
			if !ok {
				waiting = append(waiting, "a pod of "+rs)
			}
		}
		sort.Strings(waiting)
		msg := fmt.Sprintf("system pods Ready: %d/%d", ready, total)
		if len(waiting) > 0 && len(waiting) <= 2 {
			msg += " (waiting for " + strings.Join(waiting, ", ") + ")"
		}
		if msg != last {
			r.Display.Status(msg)
			last = msg
		}
		return len(waiting) == 0, nil
	}
	var store cache.Store
	pre := func(s cache.Store) (bool, error) { store = s; return check(s) }
	_, err := watchtools.UntilWithSync(ctx, lw, &corev1.Pod{}, pre, func(watch.Event) (bool, error) { return check(store) })
	switch {
	case err == nil:
		return nil
	case parent.Err() != nil:
		return parent.Err()
	case len(waiting) == 0:
		return fmt.Errorf("the system pods of cluster %s could not be read within %s (%v); `labs status` shows what is wrong", r.Cluster.Name(), timeout, err)
	}
	return fmt.Errorf("expected the system pods of cluster %s Ready within %s; not Ready: %s; `labs status` shows the nodes, `labs stop` then `labs start LAB` tries again, `labs down` then `labs start LAB` rebuilds the cluster (your progress is kept)", r.Cluster.Name(), timeout, strings.Join(waiting, ", "))
}

// replicaSetOf names the ReplicaSet that owns p, "" if none does.
func replicaSetOf(p *corev1.Pod) string {
	if ref := metav1.GetControllerOf(p); ref != nil && ref.Kind == "ReplicaSet" {
		return ref.Name
	}
	return ""
}

// startedSince reports whether every container of p runs since t (zero:
// unknown, any running container counts), with a little slack for clocks
// read a moment apart.
func startedSince(p *corev1.Pod, t time.Time) bool {
	for _, cs := range p.Status.ContainerStatuses {
		if cs.State.Running == nil || cs.State.Running.StartedAt.Time.Before(t.Add(-2*time.Second)) {
			return false
		}
	}
	return true
}

func podReady(p *corev1.Pod) bool {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// Stop stops the cluster's node containers and keeps everything else: the
// laptop gets its memory back, and `labs start` resumes the same cluster,
// lab and step.
func (r *Runner) Stop(ctx context.Context) error {
	if err := r.onKind("`labs stop`"); err != nil {
		return err
	}
	return r.withNodes(ctx, func(nodes []docker.Container) error {
		running := 0
		for _, n := range nodes {
			if n.State != "exited" && n.State != "created" && n.State != "dead" {
				running++ // paused nodes hold their memory too
			}
		}
		switch {
		case len(nodes) == 0:
			r.Display.Done(fmt.Sprintf("no cluster %s: nothing to stop", r.Cluster.Name()))
			return nil
		case running == 0:
			r.Display.Done(fmt.Sprintf("cluster %s is already stopped; `labs start LAB` resumes it", r.Cluster.Name()))
			return nil
		}
		start := time.Now()
		r.Display.Status(fmt.Sprintf("stopping cluster %s (%d node containers)", r.Cluster.Name(), running))
		if err := r.Cluster.StopNodes(ctx, 10*time.Second); err != nil {
			return fmt.Errorf("stopping cluster %s: %w", r.Cluster.Name(), err)
		}
		r.Display.Done(fmt.Sprintf("cluster %s stopped in %.1fs; your labs and progress are kept: `labs start LAB` resumes where you were", r.Cluster.Name(), time.Since(start).Seconds()))
		return nil
	})
}

// withNodes runs fn under the cluster lock, Docker checked, with the
// cluster's node containers as they are.
func (r *Runner) withNodes(ctx context.Context, fn func([]docker.Container) error) error {
	release, err := r.lockCluster(ctx)
	if err != nil {
		return err
	}
	defer release()
	if err := r.Docker.Preflight(ctx); err != nil {
		return err
	}
	nodes, err := r.Cluster.Nodes(ctx)
	if err != nil {
		return err
	}
	return fn(nodes)
}

// Down deletes the cluster and its kubeconfig. Progress files stay, so a
// later start resumes each lab where it was.
func (r *Runner) Down(ctx context.Context) error {
	if err := r.onKind("`labs down`"); err != nil {
		return err
	}
	return r.withNodes(ctx, func(nodes []docker.Container) error {
		if len(nodes) == 0 {
			r.Display.Done(fmt.Sprintf("no cluster %s: nothing to delete", r.Cluster.Name()))
			return r.Cluster.Delete() // still removes a stale kubeconfig
		}
		r.Display.Status(fmt.Sprintf("deleting cluster %s", r.Cluster.Name()))
		if err := r.deleteCluster(ctx); err != nil {
			return err
		}
		r.Display.Done(fmt.Sprintf("cluster %s deleted", r.Cluster.Name()))
		return nil
	})
}

// deleteCluster deletes the cluster; when a node container will not go, it
// thaws the frozen cgroups in it and tries once more. A container start cut
// short (the node stopped or deleted while runc was starting a pod's
// container, as it does right after a resume) can leave that container's
// cgroup frozen, and the kernel cannot end a frozen process, so Docker
// cannot remove the node ("did not receive an exit event").
func (r *Runner) deleteCluster(ctx context.Context) error {
	err := r.Cluster.Delete()
	if err == nil {
		return nil
	}
	left := fmt.Errorf("%w; `docker ps -a --filter label=io.x-k8s.kind.cluster=%s` shows what is left, and restarting Docker frees a container that will not stop", err, r.Cluster.Name())
	nodes, lerr := r.Cluster.Nodes(ctx)
	if lerr != nil || len(nodes) == 0 {
		return left
	}
	thawed := 0
	for _, n := range nodes {
		// The node image is on this machine (the node runs it) and has sh.
		k, terr := r.Docker.ThawCgroups(ctx, n.Name, n.Image)
		if terr != nil {
			r.Display.Fail(fmt.Sprintf("thawing node %s: %v", n.Name, terr))
		}
		thawed += k
	}
	if thawed == 0 {
		return left
	}
	r.Display.Status(fmt.Sprintf("a node would not stop: thawed %d frozen cgroup(s) in it (a container start cut short); deleting again", thawed))
	if err := r.Cluster.Delete(); err != nil {
		return fmt.Errorf("%w; `docker ps -a --filter label=io.x-k8s.kind.cluster=%s` shows what is left, and restarting Docker frees a container that will not stop", err, r.Cluster.Name())
	}
	return nil
}
