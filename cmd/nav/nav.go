// Package nav is `labs next`, `labs prev` and `labs goto N`.
package nav

import (
	"fmt"
	"strconv"

	"github.com/spf13/cobra"

	"github.com/labs-dev/labs/cmd/cmdutil"
)

// NewCommands returns next, prev and goto.
func NewCommands(f *cmdutil.Factory) []*cobra.Command {
	move := func(use, short string, delta int) *cobra.Command {
		return &cobra.Command{
			Use:   use,
			Short: short,
			Args:  cobra.NoArgs,
			RunE: func(cmd *cobra.Command, args []string) error {
				r, err := f.Runner()
				if err != nil {
					return err
				}
				return r.Move(cmd.Context(), delta)
			},
		}
	}
	gotoCmd := &cobra.Command{
		Use:     "goto N",
		Short:   "Go to step N of the current lab",
		Example: "  labs goto 3",
		Args:    cmdutil.ExactArgs(1, "labs goto N (a step number, from 1)"),
		RunE: func(cmd *cobra.Command, args []string) error {
			n, err := strconv.Atoi(args[0])
			if err != nil {
				return fmt.Errorf("labs goto N: %q is not a step number", args[0])
			}
			r, err := f.Runner()
			if err != nil {
				return err
			}
			return r.Goto(cmd.Context(), n)
		},
	}
	return []*cobra.Command{
		move("next", "Go to the next step (without checking this one)", 1),
		move("prev", "Go back to the previous step", -1),
		gotoCmd,
	}
}
