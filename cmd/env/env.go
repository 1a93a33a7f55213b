// Package env is `labs env`.
package env

import (
	"github.com/spf13/cobra"

	"github.com/labs-dev/labs/cmd/cmdutil"
)

// NewCommand returns `labs env`.
func NewCommand(f *cmdutil.Factory) *cobra.Command {
	return &cobra.Command{
		Use:     "env",
		Short:   "Print `export KUBECONFIG=...` for your own kubectl",
		Example: `  eval "$(labs env)"`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			r, err := f.Runner()
			if err != nil {
				return err
			}
			return r.Env()
		},
	}
}
