// Package node is `labs node`: commands on the cluster's nodes, which are
// containers on this machine.
package node

import (
	"context"
	"fmt"
	"os"

	"github.com/spf13/cobra"
	"golang.org/x/term"
	"k8s.io/apimachinery/pkg/api/resource"

	"github.com/labs-dev/labs/cmd/cmdutil"
	"github.com/labs-dev/labs/runner/docker"
)

// NewCommand returns `labs node` with its subcommands.
func NewCommand(f *cmdutil.Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "node",
		Short: "Run commands on the cluster's nodes (shell, exec)",
		Long: `The lab cluster's nodes are containers on this machine: labs node runs
commands on them as root, to read what Kubernetes did there (cgroups,
processes, namespaces). labs status lists the nodes.`,
	}
	cmd.AddCommand(newShell(f), newExec(f), newMemory(f))
	return cmd
}

func newShell(f *cmdutil.Factory) *cobra.Command {
	return &cobra.Command{
		Use:   "shell [NODE]",
		Short: "An interactive shell on a node (default: the node of the lab's newest running pod, else the first worker)",
		Example: `  labs node shell
  labs node shell labs-worker2`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			node := ""
			if len(args) > 0 {
				node = args[0]
			}
			return run(cmd.Context(), f, node, []string{"bash", "-l"}, true)
		},
	}
}

func newExec(f *cmdutil.Factory) *cobra.Command {
	return &cobra.Command{
		Use:   "exec NODE -- COMMAND [ARG...]",
		Short: "Run a command on a node; labs exits as the command did",
		Example: `  labs node exec labs-worker -- cat /proc/loadavg
  labs node exec labs-worker -- sh -c 'ls /sys/fs/cgroup'`,
		Args: cobra.MinimumNArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			return run(cmd.Context(), f, args[0], args[1:], false)
		},
	}
}

func newMemory(f *cmdutil.Factory) *cobra.Command {
	var lift bool
	cmd := &cobra.Command{
		Use:   "memory NODE (SIZE | --lift)",
		Short: "Limit a node's memory (its container's, through Docker), or lift the limit",
		Long: `Memory pressure on one node only: the node's container gets a memory limit,
so the kernel's OOM killer acts inside that node and nowhere else. Labs that
use it lift it in their cleanup (reset, after labs test, another lab).`,
		Example: `  labs node memory labs-worker2 1500Mi
  labs node memory labs-worker2 --lift`,
		Args: cobra.RangeArgs(1, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			var bytes int64
			switch {
			case lift && len(args) == 1:
			case !lift && len(args) == 2:
				q, err := resource.ParseQuantity(args[1])
				if err != nil || q.Value() <= 0 {
					return fmt.Errorf("size %q is not a memory size such as 1500Mi or 2Gi", args[1])
				}
				bytes = q.Value()
			case lift:
				return fmt.Errorf("--lift takes no size: labs node memory NODE --lift")
			default:
				return fmt.Errorf("give a size (labs node memory NODE 1500Mi) or --lift")
			}
			r, err := f.Runner()
			if err != nil {
				return err
			}
			return r.NodeMemory(cmd.Context(), args[0], bytes)
		},
	}
	cmd.Flags().BoolVar(&lift, "lift", false, "lift the limit")
	return cmd
}

// run attaches this terminal (raw, when it is one and a shell is asked)
// or these pipes to cmd on node.
func run(ctx context.Context, f *cmdutil.Factory, node string, cmd []string, interactive bool) error {
	r, err := f.Runner()
	if err != nil {
		return err
	}
	s := docker.Stdio{In: f.Streams.In, Out: f.Streams.Out, ErrOut: f.Streams.ErrOut}
	if in, ok := f.Streams.In.(*os.File); ok && interactive && term.IsTerminal(int(in.Fd())) && cmdutil.IsTerminal(f.Streams.Out) {
		w, h, err := term.GetSize(int(in.Fd()))
		if err == nil {
			s.Width, s.Height = uint(w), uint(h)
		}
		old, err := term.MakeRaw(int(in.Fd()))
		if err == nil {
			defer term.Restore(int(in.Fd()), old)
		}
		s.TTY = true
	}
	code, err := r.NodeShell(ctx, node, cmd, s)
	if err != nil {
		return err
	}
	if code != 0 {
		return cmdutil.ExitCode(code)
	}
	return nil
}
