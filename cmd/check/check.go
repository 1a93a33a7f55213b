// Package check is `labs check`.
package check

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/labs-dev/labs/cmd/cmdutil"
	"github.com/labs-dev/labs/runner"
)

// Options are the parsed flags of `labs check`.
type Options struct {
	Timeout time.Duration
	JSON    bool
}

// Complete takes --output from the root command and validates the flags:
// `labs check` and `labs answer` share them.
func (o *Options) Complete(f *cmdutil.Factory) error {
	if err := f.ValidateOutput(); err != nil {
		return err
	}
	o.JSON = f.JSON()
	return o.Validate()
}

// Validate checks the flags without I/O.
func (o *Options) Validate() error {
	if o.Timeout < 0 {
		return fmt.Errorf("--timeout must not be negative, got %s", o.Timeout)
	}
	return nil
}

// NewCommand returns `labs check`. runF replaces the real run in tests.
func NewCommand(f *cmdutil.Factory, runF func(context.Context, *Options) error) *cobra.Command {
	o := &Options{}
	cmd := &cobra.Command{
		Use:   "check",
		Short: "Check the current step against the cluster",
		Long: `Evaluate the current step's checks against the live cluster. Each check
passes the moment its condition holds, or fails after its timeout (60s unless
the lab says otherwise). On success the next step is shown; on failure each
failing check says what was expected and what was found. Exit code 1 means
the step is not done yet.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := o.Complete(f); err != nil {
				return err
			}
			if runF != nil {
				return runF(cmd.Context(), o)
			}
			r, err := f.Runner()
			if err != nil {
				return err
			}
			err = r.Check(cmd.Context(), runner.CheckOptions{Timeout: o.Timeout, JSON: o.JSON})
			if errors.Is(err, runner.ErrChecksFailed) || errors.Is(err, runner.ErrStepMoved) {
				return fmt.Errorf("%w: %w", cmdutil.ErrSilent, err)
			}
			return err
		},
	}
	cmd.Flags().DurationVar(&o.Timeout, "timeout", 0, "wait at most this long for each check (default: the lab's, 60s); an availability check's action keeps its own limit")
	return cmd
}
