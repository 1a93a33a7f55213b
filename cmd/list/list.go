// Package list is `labs list`.
package list

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/labs-dev/labs/cmd/cmdutil"
	"github.com/labs-dev/labs/runner"
)

// NewCommand returns `labs list`.
func NewCommand(f *cmdutil.Factory) *cobra.Command {
	return &cobra.Command{
		Use:     "list",
		Short:   "List the labs with their steps and your progress",
		Args:    cobra.NoArgs,
		PreRunE: func(*cobra.Command, []string) error { return f.ValidateOutput() },
		RunE:    f.Run(func(ctx context.Context, r *runner.Runner) error { return r.List(ctx, f.JSON()) }),
	}
}
