// Package list is `labs list`.
package list

import (
	"github.com/spf13/cobra"

	"github.com/labs-dev/labs/cmd/cmdutil"
)

// NewCommand returns `labs list`.
func NewCommand(f *cmdutil.Factory) *cobra.Command {
	return &cobra.Command{
		Use:   "list",
		Short: "List the labs with their steps and your progress",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := f.ValidateOutput(); err != nil {
				return err
			}
			r, err := f.Runner()
			if err != nil {
				return err
			}
			return r.List(cmd.Context(), f.JSON())
		},
	}
}
