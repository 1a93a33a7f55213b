// Package runner holds the use cases of labs: starting, stopping and
// resuming the lab cluster, walking a learner through a lab's steps, testing
// lab content and diagnosing the machine. It declares the small interfaces
// it needs (Cluster, Docker) and gets real adapters (runner/kindcluster,
// runner/docker) from cmd/cmdutil.
package runner

import (
	"context"
	"io"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"

	"github.com/labs-dev/labs/content"
	"github.com/labs-dev/labs/runner/docker"
)

// Cluster is the lab cluster's lifecycle (runner/kindcluster).
type Cluster interface {
	Name() string
	// NodeNames are the node containers of the whole cluster.
	NodeNames() []string
	// Nodes lists the node containers that exist, running or not.
	Nodes(ctx context.Context) ([]docker.Container, error)
	Create(ctx context.Context, nodeImage string) error
	// WaitRuntimes returns once every node container runs and can take
	// images (its container runtime answers), even mid-Create.
	WaitRuntimes(ctx context.Context) error
	StartNodes(ctx context.Context) error
	StopNodes(ctx context.Context, grace time.Duration) error
	WriteKubeconfig() error
	Delete() error
	// LoadImageArchive imports archive into the named node containers.
	LoadImageArchive(ctx context.Context, archive []byte, nodes []string) error
}

// Docker is what runner asks of the container engine (runner/docker).
type Docker interface {
	Preflight(ctx context.Context) error
	Facts(ctx context.Context) (docker.Facts, error)
	Exec(ctx context.Context, container string, cmd []string) (docker.ExecResult, error)
	ExecInteractive(ctx context.Context, container string, cmd []string, s docker.Stdio) (int, error)
	MemoryLimit(ctx context.Context, container string) (int64, error)
	SetMemoryLimit(ctx context.Context, container string, bytes int64) error
	ImagePresent(ctx context.Context, ref string) (bool, error)
	RunOnce(ctx context.Context, image string, cmd []string) (docker.ExecResult, error)
	ThawCgroups(ctx context.Context, name, image string) (int, error)
}

// tr is a learner-facing message format in the learner's language.
func (r *Runner) tr(format string) string { return content.Tr(r.Lang(), format) }

// Lang is the learner's language ("" for English), for views that say
// their own words.
func (r *Runner) Lang() string {
	if r.Catalog == nil {
		return ""
	}
	return r.Catalog.Lang
}

// Runner runs the use cases. Data goes to Out, progress and status to ErrOut.
type Runner struct {
	// Target is where labs run; nil is the kind cluster labs owns.
	Target Target
	// Kubeconfig, if set, is read instead of the one under Paths
	// (`labs doctor --kubeconfig FILE`).
	Kubeconfig string
	Cluster    Cluster
	Docker     Docker
	Paths      Paths
	Catalog    *Catalog
	NodeImage  string // "" lets kind choose its default
	// Executable is the labs binary: scripts get it as their kubectl.
	Executable string
	Out        io.Writer
	ErrOut     io.Writer
	Style      content.Style
	Display    *Display
	// Nodes is how many nodes the cluster has when it is all there.
	Nodes int
	// Version is what a release build set, else "" (runner/buildinfo).
	Version string
	// NewClient, if set, replaces the clients built from the kubeconfig
	// (tests pass a fake clientset).
	NewClient func() (kubernetes.Interface, error)
	// NewDynamic, if set, replaces what checks read the cluster with (tests
	// pass a fake dynamic client and a static RESTMapper).
	NewDynamic func() (dynamic.Interface, meta.RESTMapper, error)
	// Host reads facts of the machine labs runs on (`labs doctor`); nil
	// means the real one.
	Host Host
	// Reporting, if set, is the class this machine sends its progress
	// events to (`labs join CODE`); KickReporter starts the sender.
	Reporting    *Reporting
	KickReporter func()
}
