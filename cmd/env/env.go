// Package env is `labs env`.
package env

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/labs-dev/labs/cmd/cmdutil"
	"github.com/labs-dev/labs/runner"
)

// NewCommand returns `labs env`.
func NewCommand(f *cmdutil.Factory) *cobra.Command {
	return &cobra.Command{
		Use:     "env",
		Short:   "Print `export KUBECONFIG=...` for your own kubectl",
		Example: `  eval "$(labs env)"`,
		Args:    cobra.NoArgs,
		RunE:    f.Run(func(ctx context.Context, r *runner.Runner) error { return r.Env() }),
	}
}
