// Package status is `labs status`.
package status

import (
	"github.com/spf13/cobra"

	"github.com/labs-dev/labs/cmd/cmdutil"
)

// NewCommand returns `labs status`.
func NewCommand(f *cmdutil.Factory) *cobra.Command {
	return &cobra.Command{
		Use:   "status",
		Short: "Show the cluster, its nodes, and the current lab and step",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := f.ValidateOutput(); err != nil {
				return err
			}
			r, err := f.Runner()
			if err != nil {
				return err
			}
			return r.Status(cmd.Context(), f.JSON())
		},
	}
}
