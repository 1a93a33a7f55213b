// Package doctor is `labs doctor`.
package doctor

import (
	"context"
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/labs-dev/labs/cmd/cmdutil"
	"github.com/labs-dev/labs/runner"
)

// NewCommand returns `labs doctor`.
func NewCommand(f *cmdutil.Factory) *cobra.Command {
	var kubeconfig string
	cmd := &cobra.Command{
		Use:   "doctor",
		Short: "Check that this machine can run the labs, and say how to fix what cannot",
		Long: `Check what the labs need: Docker and its version, the CPUs, memory and disk
Docker may use, the cgroup version, inotify limits, whether negative
oom_score_adj values are allowed, the node image and the cluster. Each line
is ok, ! (may get in the way) or ✗ (will), with its fix. Paste the output
into a help request. Exit code 1 when something is ✗.

On a class cluster (after 'labs join', or with --kubeconfig FILE) it checks
that instead: the API server, the token's lifetime, what you may and may not
do in your namespace, and your quota.`,
		Args:    cobra.NoArgs,
		PreRunE: func(*cobra.Command, []string) error { return f.ValidateOutput() },
		RunE: f.Run(func(ctx context.Context, r *runner.Runner) error {
			if kubeconfig != "" {
				j, _, err := runner.ReadClassKubeconfig(kubeconfig)
				if err != nil {
					return err
				}
				r.Kubeconfig, r.Target = kubeconfig, runner.NewClassTarget(r, *j)
			}
			err := r.Doctor(ctx, f.JSON())
			if errors.Is(err, runner.ErrDoctorFailed) {
				return fmt.Errorf("%w: %w", cmdutil.ErrSilent, err)
			}
			return err
		}),
	}
	cmd.Flags().StringVar(&kubeconfig, "kubeconfig", "", "check a class's kubeconfig (from your instructor) instead of this machine")
	return cmd
}
