// Package stop is `labs stop`.
package stop

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/labs-dev/labs/cmd/cmdutil"
	"github.com/labs-dev/labs/runner"
)

// NewCommand returns `labs stop`.
func NewCommand(f *cmdutil.Factory) *cobra.Command {
	return &cobra.Command{
		Use:   "stop",
		Short: "Stop the lab cluster and keep everything (`labs start` resumes it)",
		Long: `Stop the node containers of the lab cluster: Docker frees their memory and
CPU. Nothing is deleted: the cluster, the objects of your labs and your
progress stay, and the next 'labs start LAB' resumes them where you were.
'labs down' deletes the cluster instead.`,
		Args: cobra.NoArgs,
		RunE: f.Run(func(ctx context.Context, r *runner.Runner) error { return r.Stop(ctx) }),
	}
}
