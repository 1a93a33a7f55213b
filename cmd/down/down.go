// Package down is `labs down`.
package down

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/labs-dev/labs/cmd/cmdutil"
	"github.com/labs-dev/labs/runner"
)

// NewCommand returns `labs down`.
func NewCommand(f *cmdutil.Factory) *cobra.Command {
	return &cobra.Command{
		Use:   "down",
		Short: "Delete the lab cluster and its kubeconfig (your progress is kept)",
		Args:  cobra.NoArgs,
		RunE:  f.Run(func(ctx context.Context, r *runner.Runner) error { return r.Down(ctx) }),
	}
}
