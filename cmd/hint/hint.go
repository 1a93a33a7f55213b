// Package hint is `labs hint`.
package hint

import (
	"github.com/spf13/cobra"

	"github.com/labs-dev/labs/cmd/cmdutil"
)

// NewCommand returns `labs hint`.
func NewCommand(f *cmdutil.Factory) *cobra.Command {
	return &cobra.Command{
		Use:   "hint",
		Short: "Show a hint for the current step",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			r, err := f.Runner()
			if err != nil {
				return err
			}
			return r.Hint(cmd.Context())
		},
	}
}
