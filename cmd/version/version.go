// Package version is `labs version`: which labs this is, for bug reports
// and for an instructor checking that every laptop runs the same one.
package version

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/labs-dev/labs/cmd/cmdutil"
	"github.com/labs-dev/labs/runner"
	"github.com/labs-dev/labs/runner/buildinfo"
)

// NewCommand returns `labs version`.
func NewCommand(f *cmdutil.Factory) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Which labs this is: version, commit and build date",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := f.ValidateOutput(); err != nil {
				return err
			}
			info := buildinfo.Get(f.Version)
			if f.JSON() {
				return runner.WriteJSON(f.Streams.Out, info)
			}
			_, err := fmt.Fprintln(f.Streams.Out, info)
			return err
		},
	}
}
