package runner

import (
	"context"
	"fmt"
	"os"
	"sort"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/restmapper"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/clientcmd"
	watchtools "k8s.io/client-go/tools/watch"
)

// client connects to the lab cluster through its own kubeconfig. Every
// request it makes ends within 30s: a learner never waits on a dead API
// server. Streams that outlive that (followed logs) use streamClient.
func (r *Runner) client() (kubernetes.Interface, error) {
	return r.newClient(30 * time.Second)
}

// streamClient has no overall request timeout, for requests that stream as
// long as their work lasts (a 10-minute load's log); callers bound them by
// their context.
func (r *Runner) streamClient() (kubernetes.Interface, error) {
	return r.newClient(0)
}

// dynamic is what checks read the cluster with: a dynamic client (no
// overall timeout: informers watch for minutes) and a RESTMapper that
// finds any kind the cluster serves, built-in or CRD, through discovery.
func (r *Runner) dynamic() (dynamic.Interface, meta.RESTMapper, error) {
	if r.NewDynamic != nil {
		return r.NewDynamic()
	}
	cfg, err := r.restConfig(0)
	if err != nil {
		return nil, nil, err
	}
	return DynamicFor(cfg)
}

// DynamicFor is what checks read a cluster with, from cfg: a dynamic
// client without cfg's overall timeout (a watch lasts; one cut every
// Timeout would list everything again) and a discovery RESTMapper whose
// requests keep a 30 s bound.
func DynamicFor(cfg *rest.Config) (dynamic.Interface, meta.RESTMapper, error) {
	wcfg := rest.CopyConfig(cfg)
	wcfg.Timeout = 0
	dyn, err := dynamic.NewForConfig(wcfg)
	if err != nil {
		return nil, nil, err
	}
	dcfg := rest.CopyConfig(cfg)
	dcfg.Timeout = 30 * time.Second
	disc, err := discovery.NewDiscoveryClientForConfig(dcfg)
	if err != nil {
		return nil, nil, err
	}
	return dyn, restmapper.NewDeferredDiscoveryRESTMapper(memory.NewMemCacheClient(disc)), nil
}

func (r *Runner) restConfig(timeout time.Duration) (*rest.Config, error) {
	file := r.Paths.Kubeconfig()
	if r.Kubeconfig != "" {
		file = r.Kubeconfig
	}
	cfg, err := clientcmd.BuildConfigFromFlags("", file)
	if err != nil {
		return nil, fmt.Errorf("reading the lab kubeconfig %s: %w (run `labs start LAB` first)", file, err)
	}
	cfg.QPS, cfg.Burst = 50, 100
	cfg.Timeout = timeout
	return cfg, nil
}

func (r *Runner) newClient(timeout time.Duration) (kubernetes.Interface, error) {
	if r.NewClient != nil {
		return r.NewClient()
	}
	cfg, err := r.restConfig(timeout)
	if err != nil {
		return nil, err
	}
	return kubernetes.NewForConfig(cfg)
}

// writeKubeconfigFor writes a copy of the lab kubeconfig whose context
// defaults to namespace ns, so scripts and learners need no -n.
func (r *Runner) writeKubeconfigFor(path, ns string) error {
	cfg, err := clientcmd.LoadFromFile(r.Paths.Kubeconfig())
	if err != nil {
		return fmt.Errorf("reading the lab kubeconfig: %w", err)
	}
	ctx, ok := cfg.Contexts[cfg.CurrentContext]
	if !ok {
		return fmt.Errorf("lab kubeconfig has no current context %q", cfg.CurrentContext)
	}
	ctx.Namespace = ns
	if err := clientcmd.WriteToFile(*cfg, path); err != nil {
		return fmt.Errorf("writing kubeconfig %s: %w", path, err)
	}
	return os.Chmod(path, 0o600)
}

// kubeconfigNamespace is the namespace the lab kubeconfig's context
// defaults to ("" when none, or no kubeconfig).
func (r *Runner) kubeconfigNamespace() string {
	cfg, err := clientcmd.LoadFromFile(r.Paths.Kubeconfig())
	if err != nil {
		return ""
	}
	if ctx, ok := cfg.Contexts[cfg.CurrentContext]; ok {
		return ctx.Namespace
	}
	return ""
}

// ensureNamespace creates ns if it is not there, with labels beside labs'
// own.
func ensureNamespace(ctx context.Context, c kubernetes.Interface, ns string, labels ...string) error {
	l := map[string]string{"app.kubernetes.io/managed-by": "labs"}
	for i := 0; i+1 < len(labels); i += 2 {
		l[labels[i]] = labels[i+1]
	}
	_, err := c.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns, Labels: l}}, metav1.CreateOptions{})
	if err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("creating namespace %s: %w", ns, err)
	}
	return nil
}

// namespaceMissing reports whether ns is not on the cluster.
func namespaceMissing(ctx context.Context, c kubernetes.Interface, ns string) (bool, error) {
	_, err := c.CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return true, nil
	}
	if err != nil {
		return false, fmt.Errorf("looking up namespace %s: %w", ns, err)
	}
	return false, nil
}

// wipeWait bounds the wait for a lab's namespace to go at reset.
const wipeWait = 2 * time.Minute

// deleteNamespace deletes ns and, if wait, watches until it is gone.
func deleteNamespace(ctx context.Context, c kubernetes.Interface, ns string, wait time.Duration) error {
	err := c.CoreV1().Namespaces().Delete(ctx, ns, metav1.DeleteOptions{})
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("deleting namespace %s: %w", ns, err)
	}
	if wait == 0 {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	lw := &cache.ListWatch{
		ListFunc: func(o metav1.ListOptions) (runtime.Object, error) {
			o.FieldSelector = fields.OneTermEqualSelector("metadata.name", ns).String()
			return c.CoreV1().Namespaces().List(ctx, o)
		},
		WatchFunc: func(o metav1.ListOptions) (watch.Interface, error) {
			o.FieldSelector = fields.OneTermEqualSelector("metadata.name", ns).String()
			return c.CoreV1().Namespaces().Watch(ctx, o)
		},
	}
	_, err = watchtools.UntilWithSync(ctx, lw, &corev1.Namespace{}, func(store cache.Store) (bool, error) {
		return len(store.List()) == 0, nil
	}, func(e watch.Event) (bool, error) { return e.Type == watch.Deleted, nil })
	if err != nil {
		return fmt.Errorf("waiting for namespace %s to be deleted: %w", ns, err)
	}
	return nil
}

// waitNodesReady watches nodes until want of them are Ready, reporting each
// change of the count.
func (r *Runner) waitNodesReady(parent context.Context, c kubernetes.Interface, want int, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(parent, timeout)
	defer cancel()
	lw := &cache.ListWatch{
		ListFunc: func(o metav1.ListOptions) (runtime.Object, error) { return c.CoreV1().Nodes().List(ctx, o) },
		WatchFunc: func(o metav1.ListOptions) (watch.Interface, error) {
			return c.CoreV1().Nodes().Watch(ctx, o)
		},
	}
	last := -1
	var notReady []string
	check := func(store cache.Store) (bool, error) {
		ready := 0
		notReady = notReady[:0]
		for _, o := range store.List() {
			n := o.(*corev1.Node)
			if nodeReady(n) {
				ready++
			} else {
				notReady = append(notReady, n.Name)
			}
		}
		if ready != last {
			r.Display.Status(fmt.Sprintf("nodes Ready: %d/%d", ready, want))
			last = ready
		}
		return ready >= want, nil
	}
	var store cache.Store
	pre := func(s cache.Store) (bool, error) { store = s; return check(s) }
	// The informer updates its store before passing the event on, so each
	// event re-judges the full node list.
	cond := func(watch.Event) (bool, error) { return check(store) }
	_, err := watchtools.UntilWithSync(ctx, lw, &corev1.Node{}, pre, cond)
	if err != nil {
		if parent.Err() != nil {
			return parent.Err() // interrupted, not timed out
		}
		sort.Strings(notReady)
		return fmt.Errorf("expected %d Ready nodes within %s; found %d (not Ready: %s); try `labs down` and `labs start` again", want, timeout, last, strings.Join(notReady, ", "))
	}
	return nil
}

func nodeReady(n *corev1.Node) bool {
	for _, c := range n.Status.Conditions {
		if c.Type == corev1.NodeReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}
