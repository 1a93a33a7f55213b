// Package answer is `labs answer`.
package answer

import (
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/labs-dev/labs/cmd/check"
	"github.com/labs-dev/labs/cmd/cmdutil"
	"github.com/labs-dev/labs/runner"
)

// NewCommand returns `labs answer VALUE`.
func NewCommand(f *cmdutil.Factory) *cobra.Command {
	o := &check.Options{}
	cmd := &cobra.Command{
		Use:   "answer VALUE",
		Short: "Answer the current step's question, and check the step",
		Long: `Some steps ask you to find something on the cluster or a node: the PID of a
container's process as its node sees it, a memory limit in bytes, which pod
the kernel would kill first. labs answer records your answer and checks the
step: the answer is compared with the truth read from the cluster or the
node right now, never with a value written in the lab. A wrong answer is
said to be wrong, not corrected: look again and answer again.`,
		Example: `  labs answer 4242
  labs answer 256Mi`,
		Args: cmdutil.ExactArgs(1, "labs answer VALUE"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := o.Complete(f); err != nil {
				return err
			}
			if strings.TrimSpace(args[0]) == "" {
				return fmt.Errorf("the answer is empty: labs answer VALUE")
			}
			r, err := f.Runner()
			if err != nil {
				return err
			}
			err = r.Answer(cmd.Context(), args[0], runner.CheckOptions{Timeout: o.Timeout, JSON: o.JSON})
			if errors.Is(err, runner.ErrChecksFailed) || errors.Is(err, runner.ErrStepMoved) {
				return fmt.Errorf("%w: %w", cmdutil.ErrSilent, err)
			}
			return err
		},
	}
	cmd.Flags().DurationVar(&o.Timeout, "timeout", 0, "wait at most this long for each other check of the step")
	return cmd
}
