// Package show is `labs show`.
package show

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/labs-dev/labs/cmd/cmdutil"
	"github.com/labs-dev/labs/runner"
)

// NewCommand returns `labs show`.
func NewCommand(f *cmdutil.Factory) *cobra.Command {
	return &cobra.Command{
		Use:   "show",
		Short: "Show the current step",
		Args:  cobra.NoArgs,
		RunE:  f.Run(func(ctx context.Context, r *runner.Runner) error { return r.Show(ctx) }),
	}
}
