// Package app is the one place labs builds its real dependencies, handles
// signals and exits.
package app

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/labs-dev/labs/cmd/check"
	"github.com/labs-dev/labs/cmd/cmdutil"
	"github.com/labs-dev/labs/cmd/down"
	"github.com/labs-dev/labs/cmd/env"
	"github.com/labs-dev/labs/cmd/hint"
	"github.com/labs-dev/labs/cmd/kubectl"
	"github.com/labs-dev/labs/cmd/labtest"
	"github.com/labs-dev/labs/cmd/list"
	"github.com/labs-dev/labs/cmd/load"
	"github.com/labs-dev/labs/cmd/nav"
	"github.com/labs-dev/labs/cmd/reset"
	"github.com/labs-dev/labs/cmd/show"
	"github.com/labs-dev/labs/cmd/solve"
	"github.com/labs-dev/labs/cmd/start"
	"github.com/labs-dev/labs/cmd/status"
	kubectlrun "github.com/labs-dev/labs/runner/kubectl"
)

// Main runs labs with the process's arguments and returns the exit code.
// Called as "kubectl" (lab scripts link it so), it is the built-in kubectl.
func Main() int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	streams := cmdutil.IOStreams{In: os.Stdin, Out: os.Stdout, ErrOut: os.Stderr}
	if filepath.Base(os.Args[0]) == "kubectl" {
		if err := kubectlrun.Run(ctx, streams.In, streams.Out, streams.ErrOut, "", os.Args[1:]); err != nil {
			fmt.Fprintln(os.Stderr, "error:", err)
			return 1
		}
		return 0
	}
	if err := Run(ctx, streams, os.Getenv, os.Args[1:]); err != nil {
		switch {
		case ctx.Err() != nil && errors.Is(err, context.Canceled):
			fmt.Fprintln(os.Stderr, "labs: interrupted")
		case !errors.Is(err, cmdutil.ErrSilent):
			fmt.Fprintln(os.Stderr, "labs:", err)
		}
		if ctx.Err() != nil {
			return 130
		}
		return 1
	}
	return 0
}

// Run executes one labs command line.
func Run(ctx context.Context, streams cmdutil.IOStreams, getenv func(string) string, args []string) error {
	root := NewRootCommand(&cmdutil.Factory{Streams: streams, Getenv: getenv})
	root.SetArgs(args)
	root.SetIn(streams.In)
	root.SetOut(streams.Out)
	root.SetErr(streams.ErrOut)
	return root.ExecuteContext(ctx)
}

// NewRootCommand wires every subcommand.
func NewRootCommand(f *cmdutil.Factory) *cobra.Command {
	root := &cobra.Command{
		Use:   "labs",
		Short: "Kubernetes training labs on a real multi-node cluster on your laptop",
		Long: `labs creates a real 3-node Kubernetes cluster in Docker (kind), walks you
through hands-on lab steps, and checks each step against the live cluster.

  labs list                 the labs
  labs start selfhealing    create the cluster and start a lab
  labs check                check the current step
  labs hint | labs solve    a nudge, or the reference solution
  labs down                 delete the cluster`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.PersistentFlags().StringVar(&f.NodeImage, "node-image", "", "kind node image (default: $LABS_NODE_IMAGE, $KIND_NODE_IMAGE, or kind's default)")
	root.PersistentFlags().StringVarP(&f.Output, "output", "o", "text", "output format: text or json")
	root.AddCommand(
		start.NewCommand(f, nil),
		down.NewCommand(f),
		status.NewCommand(f),
		kubectl.NewCommand(f),
		env.NewCommand(f),
		list.NewCommand(f),
		show.NewCommand(f),
		check.NewCommand(f, nil),
		hint.NewCommand(f),
		solve.NewCommand(f),
		reset.NewCommand(f),
		labtest.NewCommand(f, nil),
		load.NewCommand(f, nil),
	)
	root.AddCommand(nav.NewCommands(f)...)
	return root
}
