// Package solve is `labs solve`.
package solve

import (
	"github.com/spf13/cobra"

	"github.com/labs-dev/labs/cmd/cmdutil"
)

// NewCommand returns `labs solve`.
func NewCommand(f *cmdutil.Factory) *cobra.Command {
	return &cobra.Command{
		Use:   "solve",
		Short: "Show and run the reference solution of the current step",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			r, err := f.Runner()
			if err != nil {
				return err
			}
			return r.Solve(cmd.Context())
		},
	}
}
