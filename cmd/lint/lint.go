// Package lint is `labs lint`: what can be known wrong about lab files
// without a cluster.
package lint

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/labs-dev/labs/cmd/cmdutil"
	"github.com/labs-dev/labs/runner"
	labslint "github.com/labs-dev/labs/runner/lint"
)

// Options are the parsed arguments of `labs lint`.
type Options struct {
	Paths []string
	JSON  bool
	// GitHub: also print GitHub Actions annotations (GITHUB_ACTIONS=true).
	GitHub bool
}

// Complete fills the options from flags and environment.
func (o *Options) Complete(f *cmdutil.Factory, args []string) error {
	if err := f.ValidateOutput(); err != nil {
		return err
	}
	o.Paths, o.JSON, o.GitHub = args, f.JSON(), f.Getenv("GITHUB_ACTIONS") == "true"
	return nil
}

// Validate checks the arguments without I/O.
func (o *Options) Validate() error {
	if len(o.Paths) == 0 {
		return fmt.Errorf("usage: labs lint FILE|DIR... (lab .md files, or folders of them)")
	}
	return nil
}

// Run lints and prints each problem as file:line: problem.
func (o *Options) Run(f *cmdutil.Factory) error {
	files, err := labslint.ReadFiles(o.Paths)
	if err != nil {
		return err
	}
	problems := labslint.Run(files)
	out := f.Streams.Out
	if o.JSON {
		if problems == nil {
			problems = []labslint.Problem{}
		}
		if err := runner.WriteJSON(out, problems); err != nil {
			return err
		}
	} else {
		for _, p := range problems {
			fmt.Fprintln(out, p)
		}
	}
	if o.GitHub { // on stderr: stdout may be JSON; Actions reads both
		for _, p := range problems {
			fmt.Fprintln(f.Streams.ErrOut, runner.GitHubAnnotation("error", p.File, p.Line, "labs lint", p.Msg))
		}
	}
	if len(problems) > 0 {
		fmt.Fprintf(f.Streams.ErrOut, "%d problem(s) in %d file(s) linted\n", len(problems), len(files))
		return cmdutil.ErrSilent
	}
	fmt.Fprintf(f.Streams.ErrOut, "%d file(s) linted: no problems\n", len(files))
	return nil
}

// NewCommand returns `labs lint`.
func NewCommand(f *cmdutil.Factory) *cobra.Command {
	o := &Options{}
	return &cobra.Command{
		Use:   "lint FILE|DIR...",
		Short: "Find what is wrong in lab files without a cluster",
		Long: `Check lab files the way labs reads them, with no cluster: the front matter,
every check (each compiles), one check and one solve per step, every script
(sh's grammar: labs runs them with sh), every manifest (setup blocks, YAML
examples in the text, heredocs fed to kubectl) decoded strictly against the
Kubernetes API, images labs cannot load, and translations (LAB.ko.md) whose
steps, checks or scripts differ from the original's. Each problem is printed
as file:line: problem; exits 1 when there is any.`,
		Example: "  labs lint ./mylab.md\n  labs lint course/ -o json",
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := o.Complete(f, args); err != nil {
				return err
			}
			if err := o.Validate(); err != nil {
				return err
			}
			return o.Run(f)
		},
	}
}
