// Package join is `labs join FILE`, `labs join CODE --name NAME` and `labs
// join --leave`.
package join

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/labs-dev/labs/cmd/cmdutil"
	"github.com/labs-dev/labs/runner"
	"github.com/labs-dev/labs/runner/classview"
)

// Options are the parsed arguments of `labs join`.
type Options struct {
	File  string // a kubeconfig, or a join code
	Name  string // with a join code: who you are in the class
	Leave bool
}

// Validate checks the arguments without I/O.
func (o *Options) Validate() error {
	if o.Leave == (o.File != "") {
		return fmt.Errorf("usage: labs join FILE (the kubeconfig your instructor gave you), labs join CODE --name NAME (the code on your instructor's screen), or labs join --leave")
	}
	if classview.IsJoinCode(o.File) && o.Name == "" {
		return fmt.Errorf("a join code needs your name in the class: labs join CODE --name NAME (lower-case letters, digits and '-')")
	}
	if o.Name != "" && !classview.IsJoinCode(o.File) {
		return fmt.Errorf("--name goes with a join code (labs1-...); a kubeconfig file names you already")
	}
	return nil
}

// NewCommand returns `labs join`.
func NewCommand(f *cmdutil.Factory) *cobra.Command {
	o := &Options{}
	cmd := &cobra.Command{
		Use:   "join FILE | --leave",
		Short: "Run labs on your class's cluster, in your own namespace (no Docker needed)",
		Long: `Join a class: FILE is the kubeconfig your instructor gave you ('labs class up'
writes one per learner). From then on 'labs start LAB' and every other command
run on the class's cluster, in your namespace there; your progress is kept
there too, so you can change machines. Labs that need the nodes or the whole
cluster are refused (they run on your own machine's cluster). 'labs join
--leave' goes back to the cluster on this machine.

In a class where everyone runs labs on their own machine, the instructor's
'labs class serve --laptops' shows a join code: 'labs join CODE --name NAME'
then sends your progress events (steps, hints, solves, answers, failing
checks' expected/found) to the instructor's page, in the background: a
command never waits for it, and what could not be sent is sent later.`,
		Example: "  labs join ~/Downloads/learner-07.kubeconfig\n  labs join labs1-eyJhIjoi... --name ana\n  labs join --leave",
		Args:    cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 1 {
				o.File = args[0]
			}
			if err := o.Validate(); err != nil {
				return err
			}
			return Run(cmd.Context(), f, o)
		},
	}
	cmd.Flags().BoolVar(&o.Leave, "leave", false, "leave the class: labs runs on this machine's cluster again, and sends nothing")
	cmd.Flags().StringVar(&o.Name, "name", "", "with a join code: your name in the class")
	return cmd
}

// Run joins or leaves.
func Run(ctx context.Context, f *cmdutil.Factory, o *Options) error {
	paths, err := f.Paths()
	if err != nil {
		return err
	}
	if o.Leave {
		j, err := runner.Leave(paths)
		if err != nil {
			return err
		}
		rep, err := runner.LeaveReporting(paths)
		if err != nil {
			return err
		}
		if rep != nil {
			fmt.Fprintf(f.Streams.ErrOut, "left class %s: your progress is no longer sent to %s\n", rep.Class, rep.Server)
		}
		if j != nil {
			fmt.Fprintf(f.Streams.ErrOut, "left class %s: labs runs on this machine's cluster again (your progress stays in namespace %s)\n", j.Class, j.Namespace)
		}
		if j == nil && rep == nil {
			fmt.Fprintln(f.Streams.ErrOut, "this machine is not in a class: nothing to leave")
		}
		return nil
	}
	if classview.IsJoinCode(o.File) {
		code, err := classview.ParseJoinCode(o.File)
		if err != nil {
			return err
		}
		rep, err := runner.JoinLaptopClass(ctx, paths, code, o.Name)
		if err != nil {
			return err
		}
		fmt.Fprintf(f.Streams.ErrOut, "joined class %s as %s.\n"+runner.WhatIsShared+"\n", rep.Class, rep.Learner, rep.Server)
		return nil
	}
	j, err := runner.Join(paths, o.File)
	if err != nil {
		return err
	}
	until := ""
	if !j.Expires.IsZero() {
		until = fmt.Sprintf(", until %s", j.Expires.Local().Format(time.DateTime))
	}
	fmt.Fprintf(f.Streams.ErrOut, "joined class %s as %s: your labs run in namespace %s on %s%s; `labs start LAB` begins, `labs join --leave` leaves\n", j.Class, j.Learner, j.Namespace, j.Server, until)
	return nil
}

// NewReportCommand returns `labs __report`, hidden: the background sender
// a command starts after queueing progress events (`labs join CODE`). It
// sends the queue to the class's server and exits; failures wait longer
// each time, for at most 15 minutes, and the next command starts it again.
func NewReportCommand(f *cmdutil.Factory) *cobra.Command {
	return &cobra.Command{
		Use:    "__report",
		Hidden: true,
		Args:   cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			paths, err := f.Paths()
			if err != nil {
				return err
			}
			rep, err := runner.ReadReporting(paths)
			if err != nil || rep == nil {
				return err
			}
			return runner.FlushReports(cmd.Context(), paths, *rep, 15*time.Minute)
		},
	}
}
