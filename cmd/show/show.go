// Package show is `labs show`.
package show

import (
	"github.com/spf13/cobra"

	"github.com/labs-dev/labs/cmd/cmdutil"
)

// NewCommand returns `labs show`.
func NewCommand(f *cmdutil.Factory) *cobra.Command {
	return &cobra.Command{
		Use:   "show",
		Short: "Show the current step",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			r, err := f.Runner()
			if err != nil {
				return err
			}
			return r.Show(cmd.Context())
		},
	}
}
