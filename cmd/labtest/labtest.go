// Package labtest is `labs test LAB...`, the content CI of labs.
package labtest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"

	"github.com/labs-dev/labs/cmd/cmdutil"
	"github.com/labs-dev/labs/runner"
)

// Options are the parsed arguments of `labs test`.
type Options struct {
	Labs          []string
	JUnit         string
	KeepOnFailure bool
	Verbose       bool
	SolveTimeout  time.Duration
	JSON          bool
	Parallel      int
}

// Validate checks the arguments without I/O.
func (o *Options) Validate() error {
	if len(o.Labs) == 0 {
		return fmt.Errorf("usage: labs test LAB... (a lab name or a path to a lab .md file)")
	}
	if o.SolveTimeout <= 0 {
		return fmt.Errorf("--solve-timeout must be positive, got %s", o.SolveTimeout)
	}
	if o.Parallel < 1 {
		return fmt.Errorf("--parallel must be at least 1, got %d", o.Parallel)
	}
	return nil
}

// NewCommand returns `labs test`. runF replaces the real run in tests.
func NewCommand(f *cmdutil.Factory, runF func(context.Context, *Options) error) *cobra.Command {
	o := &Options{}
	cmd := &cobra.Command{
		Use:   "test LAB...",
		Short: "Test lab content: each step must fail before its solution and pass after",
		Long: `Run each lab on a fresh namespace of the lab cluster (created if needed). For
every step, the step's checks must FAIL before its reference solution runs
and PASS after it, within the checks' timeouts. Prints a table per lab and
exits non-zero on any failure or error.

Labs of scope namespace run up to --parallel at once, each in its own
namespace; labs that reach into the nodes or the cluster (scope node or
cluster) run alone, after them.`,
		Example: "  labs test selfhealing --junit report.xml\n  labs test ./my-draft.md --keep-on-failure",
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Labs = args
			if err := f.ValidateOutput(); err != nil {
				return err
			}
			o.JSON = f.JSON()
			if err := o.Validate(); err != nil {
				return err
			}
			if runF != nil {
				return runF(cmd.Context(), o)
			}
			r, err := f.Runner()
			if err != nil {
				return err
			}
			var out io.Writer = io.Discard
			if o.Verbose {
				out = f.Streams.ErrOut
			}
			err = r.Test(cmd.Context(), o.Labs, runner.TestOptions{
				JUnitFile: o.JUnit, KeepOnFailure: o.KeepOnFailure, JSON: o.JSON,
				SolveTimeout: o.SolveTimeout, ScriptOutput: out, Parallel: o.Parallel,
			})
			if errors.Is(err, runner.ErrTestFailed) {
				return fmt.Errorf("%w: %w", cmdutil.ErrSilent, err)
			}
			return err
		},
	}
	cmd.Flags().StringVar(&o.JUnit, "junit", "", "write a JUnit XML report to this file")
	cmd.Flags().BoolVar(&o.KeepOnFailure, "keep-on-failure", false, "keep the test namespace when a step fails, for inspection")
	cmd.Flags().BoolVarP(&o.Verbose, "verbose", "v", false, "show the output of setup and solution scripts")
	cmd.Flags().DurationVar(&o.SolveTimeout, "solve-timeout", 5*time.Minute, "how long a solution script may run")
	cmd.Flags().IntVar(&o.Parallel, "parallel", 4, "how many labs of scope namespace run at once")
	return cmd
}
