// Package reset is `labs reset [LAB]`.
package reset

import (
	"bufio"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/labs-dev/labs/cmd/cmdutil"
)

// NewCommand returns `labs reset`.
func NewCommand(f *cmdutil.Factory) *cobra.Command {
	var yes bool
	cmd := &cobra.Command{
		Use:   "reset [LAB]",
		Short: "Delete the lab's objects, run its setup again and start over at step 1",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			lab := ""
			if len(args) == 1 {
				lab = args[0]
			}
			if !yes {
				if !f.CanPrompt() {
					return fmt.Errorf("labs reset deletes everything in the lab's namespace: add --yes to confirm (no terminal to ask on)")
				}
				fmt.Fprint(f.Streams.ErrOut, "This deletes everything in the lab's namespace and restarts it at step 1. Continue? [y/N] ")
				line, _ := bufio.NewReader(f.Streams.In).ReadString('\n')
				if a := strings.ToLower(strings.TrimSpace(line)); a != "y" && a != "yes" {
					return fmt.Errorf("reset cancelled")
				}
			}
			r, err := f.Runner()
			if err != nil {
				return err
			}
			return r.Reset(cmd.Context(), lab)
		},
	}
	cmd.Flags().BoolVarP(&yes, "yes", "y", false, "do not ask for confirmation")
	return cmd
}
