// Package join is `labs join FILE` and `labs join --leave`.
package join

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/labs-dev/labs/cmd/cmdutil"
	"github.com/labs-dev/labs/runner"
)

// Options are the parsed arguments of `labs join`.
type Options struct {
	File  string
	Leave bool
}

// Validate checks the arguments without I/O.
func (o *Options) Validate() error {
	if o.Leave == (o.File != "") {
		return fmt.Errorf("usage: labs join FILE (the kubeconfig your instructor gave you), or labs join --leave")
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
--leave' goes back to the cluster on this machine.`,
		Example: "  labs join ~/Downloads/learner-07.kubeconfig\n  labs join --leave",
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
	cmd.Flags().BoolVar(&o.Leave, "leave", false, "leave the class: labs runs on this machine's cluster again")
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
		if j == nil {
			fmt.Fprintln(f.Streams.ErrOut, "this machine is not in a class: nothing to leave")
			return nil
		}
		fmt.Fprintf(f.Streams.ErrOut, "left class %s: labs runs on this machine's cluster again (your progress stays in namespace %s)\n", j.Class, j.Namespace)
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
