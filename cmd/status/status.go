// Package status is `labs status`.
package status

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/labs-dev/labs/cmd/cmdutil"
	"github.com/labs-dev/labs/runner"
)

// NewCommand returns `labs status`.
func NewCommand(f *cmdutil.Factory) *cobra.Command {
	return &cobra.Command{
		Use:     "status",
		Short:   "Show the cluster, its nodes, and the current lab and step",
		Args:    cobra.NoArgs,
		PreRunE: func(*cobra.Command, []string) error { return f.ValidateOutput() },
		RunE:    f.Run(func(ctx context.Context, r *runner.Runner) error { return r.Status(ctx, f.JSON()) }),
	}
}
