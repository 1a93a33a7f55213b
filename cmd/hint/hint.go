// Package hint is `labs hint`.
package hint

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/labs-dev/labs/cmd/cmdutil"
	"github.com/labs-dev/labs/runner"
)

// NewCommand returns `labs hint`.
func NewCommand(f *cmdutil.Factory) *cobra.Command {
	return &cobra.Command{
		Use:   "hint",
		Short: "Show a hint for the current step",
		Args:  cobra.NoArgs,
		RunE:  f.Run(func(ctx context.Context, r *runner.Runner) error { return r.Hint(ctx) }),
	}
}
