// Package solve is `labs solve`.
package solve

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/labs-dev/labs/cmd/cmdutil"
	"github.com/labs-dev/labs/runner"
)

// NewCommand returns `labs solve`.
func NewCommand(f *cmdutil.Factory) *cobra.Command {
	return &cobra.Command{
		Use:   "solve",
		Short: "Show and run the reference solution of the current step",
		Args:  cobra.NoArgs,
		RunE:  f.Run(func(ctx context.Context, r *runner.Runner) error { return r.Solve(ctx) }),
	}
}
