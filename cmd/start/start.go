// Package start is `labs start LAB`.
package start

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/labs-dev/labs/cmd/cmdutil"
	"github.com/labs-dev/labs/cmd/join"
)

// Options are the parsed arguments of `labs start`.
type Options struct {
	Lab string
	// Kubeconfig joins a class first (`labs join FILE`).
	Kubeconfig string
}

// NewCommand returns `labs start`. runF replaces the real run in tests.
func NewCommand(f *cmdutil.Factory, runF func(context.Context, *Options) error) *cobra.Command {
	o := &Options{}
	cmd := &cobra.Command{
		Use:   "start LAB",
		Short: "Create (or reuse) the lab cluster and start a lab",
		Long: `Create the lab cluster (1 control-plane, 2 workers) or reuse it when it runs,
load the lab images into its nodes, and show the lab's current step. A lab you
started before resumes where you stopped.`,
		Example: "  labs start selfhealing\n  labs start selfhealing --kubeconfig learner-07.kubeconfig   # on your class's cluster",
		Args:    cmdutil.ExactArgs(1, "labs start LAB (see `labs list`)"),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Lab = args[0]
			if runF != nil {
				return runF(cmd.Context(), o)
			}
			if o.Kubeconfig != "" {
				if err := join.Run(cmd.Context(), f, &join.Options{File: o.Kubeconfig}); err != nil {
					return err
				}
			}
			r, err := f.Runner()
			if err != nil {
				return err
			}
			return r.Start(cmd.Context(), o.Lab)
		},
	}
	cmd.Flags().StringVar(&o.Kubeconfig, "kubeconfig", "", "join a class with the kubeconfig your instructor gave you first (as `labs join FILE`), then start the lab there")
	return cmd
}
