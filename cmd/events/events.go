// Package events is `labs events`: the lab namespace's events as they
// happen, one line each.
package events

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/labs-dev/labs/cmd/cmdutil"
	"github.com/labs-dev/labs/runner"
)

// NewCommand returns `labs events`.
func NewCommand(f *cmdutil.Factory) *cobra.Command {
	var all, warnings bool
	var recent int
	cmd := &cobra.Command{
		Use:   "events",
		Short: "Stream the lab namespace's events as they happen (-A: every namespace)",
		Long: `Print the lab namespace's recent events, then each new one (or a repeat of
one) as it happens, one line each, until Ctrl-C: "Liveness probe failed",
"Back-off restarting failed container", "OOMKilling". Warnings are red on a
terminal. With -o json, one JSON object per line.`,
		Example: "  labs events\n  labs events --warnings\n  labs events -A",
		Args:    cobra.NoArgs,
		PreRunE: func(*cobra.Command, []string) error { return f.ValidateOutput() },
		RunE: f.Run(func(ctx context.Context, r *runner.Runner) error {
			err := r.Events(ctx, runner.EventsOptions{Warnings: warnings, Recent: recent}, all, f.JSON())
			if ctx.Err() != nil {
				return nil // Ctrl-C is how it ends
			}
			return err
		}),
	}
	cmd.Flags().BoolVarP(&all, "all-namespaces", "A", false, "every namespace, not only the lab's")
	cmd.Flags().BoolVar(&warnings, "warnings", false, "only Warning events")
	cmd.Flags().IntVar(&recent, "recent", 20, "how many past events to show first")
	return cmd
}
