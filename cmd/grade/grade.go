// Package grade is `labs grade`: scores a student's work on a lab, for CI.
package grade

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/labs-dev/labs/cmd/cmdutil"
	"github.com/labs-dev/labs/runner"
)

// Options are the parsed arguments of `labs grade`.
type Options struct {
	Lab         string
	Submission  string
	PassMark    string // "5" points or "80%"
	StepTimeout time.Duration
	JUnit       string
	Verbose     bool

	grade runner.GradeOptions
}

// Complete turns flags and environment into the runner's options.
func (o *Options) Complete(f *cmdutil.Factory, args []string) error {
	if err := f.ValidateOutput(); err != nil {
		return err
	}
	if len(args) != 1 {
		return fmt.Errorf("usage: labs grade LAB [--submission DIR] (a lab name or a lab .md file)")
	}
	o.Lab = args[0]
	o.grade = runner.GradeOptions{
		Submission: o.Submission, StepTimeout: o.StepTimeout, JUnitFile: o.JUnit,
		JSON: f.JSON(), GitHub: f.Getenv("GITHUB_ACTIONS") == "true",
	}
	if o.PassMark != "" {
		num, pct := strings.CutSuffix(strings.TrimSpace(o.PassMark), "%")
		v, err := strconv.ParseFloat(num, 64)
		if err != nil || v < 0 || (pct && v > 100) {
			return fmt.Errorf("--pass-mark %q: give points (5) or a percentage of the maximum (80%%)", o.PassMark)
		}
		o.grade.PassMark, o.grade.PassPercent, o.grade.PassMarkSet = v, pct, true
	}
	if o.Verbose {
		o.grade.ScriptOutput = f.Streams.ErrOut
	}
	return nil
}

// Validate checks the options without I/O.
func (o *Options) Validate() error {
	if o.StepTimeout <= 0 {
		return fmt.Errorf("--step-timeout must be positive, got %s", o.StepTimeout)
	}
	return nil
}

// NewCommand returns `labs grade`. runF replaces the real run in tests.
func NewCommand(f *cmdutil.Factory, runF func(context.Context, *Options) error) *cobra.Command {
	o := &Options{}
	cmd := &cobra.Command{
		Use:   "grade LAB [--submission DIR]",
		Short: "Grade a student's work on a lab (for CI): points per step, JSON, JUnit",
		Long: `With --submission DIR, run the lab on a fresh namespace of the lab cluster
(created if needed) and, for each step in order, run the student's solution
instead of the reference one, then judge it with the step's checks:
DIR/step-01.sh (run with sh, in DIR, with kubectl and $LAB_NAMESPACE; an
answer goes to $LAB_ANSWER_FILE) or DIR/step-01/ (its manifests applied). A
missing step scores 0 and grading goes on; a script that runs past
--step-timeout is stopped and scores 0. The student's kubectl acts as a
service account that RBAC limits to the grading namespace.

Without --submission, grade the lab's namespace as the learner left it: the
steps whose checks can be judged from the state alone (the others say why
they cannot).

Points: 1 per step unless the lab's front matter says (points: {3: 2}).
Exit code: 0 at or above the pass mark (default: every point), 1 below,
2 when grading itself could not run (or was asked wrongly).

A submission's scripts run as the grading user: RBAC keeps their kubectl to
the grading namespace, which guards against mistakes, not against a hostile
script (it could use Docker). Grade untrusted work on a disposable machine,
as a CI job is.`,
		Example: `  labs grade selfhealing --submission ./submission --junit grade.xml
  labs grade selfhealing --submission ./submission --pass-mark 80% -o json
  labs grade selfhealing`,
		RunE: func(cmd *cobra.Command, args []string) error {
			// Exit 1 means "below the pass mark" only: a usage error is 2,
			// so CI never reads a typo as a failing student.
			if err := o.Complete(f, args); err != nil {
				return broke(f.Streams.ErrOut, err)
			}
			if err := o.Validate(); err != nil {
				return broke(f.Streams.ErrOut, err)
			}
			if runF != nil {
				return runF(cmd.Context(), o)
			}
			return o.Run(cmd.Context(), f)
		},
	}
	cmd.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return broke(f.Streams.ErrOut, err) })
	cmd.Flags().StringVar(&o.Submission, "submission", "", "the student's folder: step-01.sh or step-01/*.yaml per step")
	cmd.Flags().StringVar(&o.PassMark, "pass-mark", "", "points needed to pass, or a percentage (80%); default: every point")
	cmd.Flags().DurationVar(&o.StepTimeout, "step-timeout", 5*time.Minute, "how long one step's submitted script may run")
	cmd.Flags().StringVar(&o.JUnit, "junit", "", "write a JUnit XML report to this file")
	cmd.Flags().BoolVarP(&o.Verbose, "verbose", "v", false, "show the output of setup and submission scripts")
	return cmd
}

// Run grades and maps the outcome onto the exit code.
func (o *Options) Run(ctx context.Context, f *cmdutil.Factory) error {
	r, err := f.Runner()
	if err != nil {
		return broke(f.Streams.ErrOut, err)
	}
	_, err = r.Grade(ctx, o.Lab, o.grade)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, runner.ErrBelowPassMark):
		return cmdutil.ExitCode(1)
	case ctx.Err() != nil:
		return err
	}
	return broke(f.Streams.ErrOut, err)
}

// broke says what kept grading from running and exits 2, so CI tells a
// broken grader from a failing student.
func broke(w io.Writer, err error) error {
	fmt.Fprintln(w, "labs:", err)
	return cmdutil.ExitCode(2)
}
