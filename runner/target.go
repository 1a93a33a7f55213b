package runner

import (
	"context"
	"fmt"

	"k8s.io/client-go/kubernetes"

	"github.com/labs-dev/labs/content"
	"github.com/labs-dev/labs/runner/images"
)

// Target is where a lab runs. Two exist:
//   - kind: a cluster labs owns, made of containers on this machine;
//     labs creates, resumes and deletes it, loads images into its nodes
//     and reaches the nodes through Docker. Each lab has its own namespace.
//   - class: a cluster a class already has, reached by the learner's
//     kubeconfig (`labs join`). The learner may act in one namespace only;
//     there is no Docker here and no node access, so only labs of scope
//     namespace run, all in that one namespace.
//
// Everything that differs between the two goes through this interface,
// so the use cases (start, check, reset) are written once.
type Target interface {
	// Mode is "kind" or "class", for messages and `labs status`.
	Mode() string
	// Ensure makes the target usable and returns a client for it: kind
	// creates, resumes or reuses the cluster; class checks that the API
	// server answers and the learner's token is still valid.
	Ensure(ctx context.Context) (kubernetes.Interface, error)
	// Allow refuses, in one sentence, a lab this target cannot run.
	Allow(lab *content.Lab) error
	// Namespace is where lab runs on this target.
	Namespace(lab *content.Lab) string
	// Facts are what the target adds to a lab's ${NAME} values (the
	// nodes' names on kind; nothing on a class cluster).
	Facts() map[string]string
	// Prepare makes the namespace ready for the lab's setup; fresh says it
	// did not hold the lab before (a rebuilt cluster: progress must be
	// restored).
	Prepare(ctx context.Context, c kubernetes.Interface, ns string) (fresh bool, err error)
	// Wipe removes everything the lab made in the namespace (`labs reset`).
	Wipe(ctx context.Context, c kubernetes.Interface, ns string) error
	// Store keeps the learner's progress.
	Store() ProgressStore
	// Images is the registry the nodes pull the workload image from; the
	// zero Registry when it is loaded into them (kind).
	Images() images.Registry
}

// target is the runner's target: kind unless a class target was set.
func (r *Runner) target() Target {
	if r.Target != nil {
		return r.Target
	}
	return &kindTarget{r: r}
}

// ns is the namespace the lab runs in on this runner's target.
func (r *Runner) ns(lab *content.Lab) string { return r.target().Namespace(lab) }

// onKind refuses, in one sentence, a command that needs the kind cluster
// labs owns (its node containers, Docker) when the target is a class
// cluster.
func (r *Runner) onKind(what string) error {
	t := r.target()
	if t.Mode() == "kind" {
		return nil
	}
	return fmt.Errorf("%s needs a lab cluster on this machine, and this machine is joined to a class cluster (%s): there the instructor runs the cluster; `labs join --leave` returns to a local cluster", what, describeTarget(t))
}

func describeTarget(t Target) string {
	if c, ok := t.(*ClassTarget); ok {
		return fmt.Sprintf("namespace %s of class %s", c.Namespace(nil), c.Joined.Class)
	}
	return t.Mode()
}

// kindTarget is the kind cluster labs owns: what labs always did.
type kindTarget struct{ r *Runner }

func (k *kindTarget) Mode() string { return "kind" }

func (k *kindTarget) Ensure(ctx context.Context) (kubernetes.Interface, error) {
	return k.r.ensureCluster(ctx)
}

// Allow: a kind cluster of labs' own runs every lab.
func (k *kindTarget) Allow(*content.Lab) error { return nil }

func (k *kindTarget) Namespace(lab *content.Lab) string { return lab.Namespace }

func (k *kindTarget) Facts() map[string]string {
	f := map[string]string{}
	names := k.r.Cluster.NodeNames()
	if len(names) > 0 {
		f["LAB_CONTROL_PLANE"] = names[0]
	}
	for i, n := range names[min(1, len(names)):] {
		f[fmt.Sprintf("LAB_WORKER_%d", i+1)] = n
	}
	return f
}

func (k *kindTarget) Prepare(ctx context.Context, c kubernetes.Interface, ns string) (bool, error) {
	fresh, err := namespaceMissing(ctx, c, ns)
	if err != nil {
		return false, err
	}
	return fresh, ensureNamespace(ctx, c, ns)
}

func (k *kindTarget) Wipe(ctx context.Context, c kubernetes.Interface, ns string) error {
	return deleteNamespace(ctx, c, ns, wipeWait)
}

func (k *kindTarget) Images() images.Registry { return images.Registry{} }

func (k *kindTarget) Store() ProgressStore {
	return Store{Dir: k.r.Paths.StateDir, Lock: k.r.Paths.progressLock()}
}
