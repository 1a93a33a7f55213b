// Package load is `labs load TARGET`.
package load

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/labs-dev/labs/cmd/cmdutil"
	"github.com/labs-dev/labs/runner"
)

// NewCommand returns `labs load`. runF replaces the real run in tests.
func NewCommand(f *cmdutil.Factory, runF func(context.Context, *runner.LoadOptions) error) *cobra.Command {
	o := &runner.LoadOptions{}
	cmd := &cobra.Command{
		Use:   "load TARGET",
		Short: "Send HTTP load to a Service from inside the cluster and report availability",
		Long: `Run a load generator (siege-like) as a pod in the lab's namespace, so TARGET
is reached the way users reach it. TARGET is a Service name (web, svc/web,
web:8080) or an http:// URL. While it runs, a live line shows requests per
second, errors, latency and requests in flight; at the end a summary shows
transactions, availability and response times. A connection error, a
non-2xx answer or a timeout counts as a failure.`,
		Example: "  labs load web --duration 60s --concurrency 2\n  labs load svc/web:80 --requests 1000 -o json",
		Args:    cmdutil.ExactArgs(1, "labs load TARGET (a Service name or an http:// URL)"),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Target = args[0]
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
			return r.Load(cmd.Context(), *o)
		},
	}
	cmd.Flags().DurationVar(&o.Duration, "duration", 0, "how long to run (default 30s unless --requests; at most 10m)")
	cmd.Flags().Int64Var(&o.Requests, "requests", 0, "stop after this many requests")
	cmd.Flags().IntVarP(&o.Concurrency, "concurrency", "c", 1, "parallel clients")
	cmd.Flags().BoolVar(&o.Live, "live", false, "a live panel: requests/s, p50/p95/p99, errors by reason, in flight, and sparklines of the last minute")
	cmd.Flags().Float64Var(&o.Rate, "rate", 0, "requests per second in total (default: as fast as possible)")
	return cmd
}
