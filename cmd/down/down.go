// Package down is `labs down`.
package down

import (
	"github.com/spf13/cobra"

	"github.com/labs-dev/labs/cmd/cmdutil"
)

// NewCommand returns `labs down`.
func NewCommand(f *cmdutil.Factory) *cobra.Command {
	return &cobra.Command{
		Use:   "down",
		Short: "Delete the lab cluster and its kubeconfig (your progress is kept)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			r, err := f.Runner()
			if err != nil {
				return err
			}
			return r.Down(cmd.Context())
		},
	}
}
