// Package runner holds the use cases of labs: starting the lab cluster,
// walking a learner through a lab's steps, and testing lab content. It
// declares the small interfaces it needs (Cluster, Docker) and gets real
// adapters (runner/kindcluster, runner/docker) from cmd/app.
package runner

import (
	"context"
	"io"

	"k8s.io/client-go/kubernetes"

	"github.com/labs-dev/labs/content"
)

// Cluster is the lab cluster's lifecycle (runner/kindcluster).
type Cluster interface {
	Name() string
	Exists() (bool, error)
	Create(ctx context.Context, nodeImage string) error
	WriteKubeconfig() error
	Delete() error
	LoadImageArchive(ctx context.Context, archive []byte) error
}

// Docker is what runner asks of the container engine (runner/docker).
type Docker interface {
	Preflight(ctx context.Context) error
}

// Runner runs the use cases. Data goes to Out, progress and status to ErrOut.
type Runner struct {
	Cluster   Cluster
	Docker    Docker
	Paths     Paths
	Catalog   *Catalog
	NodeImage string // "" lets kind choose its default
	// Executable is the labs binary: scripts get it as their kubectl.
	Executable string
	Out        io.Writer
	ErrOut     io.Writer
	Style      content.Style
	Display    *Display
	// Nodes is how many nodes the cluster has when it is all there.
	Nodes int
	// NewClient, if set, replaces the client built from the kubeconfig
	// (tests pass a fake clientset).
	NewClient func() (kubernetes.Interface, error)
}
