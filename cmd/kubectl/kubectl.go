// Package kubectl is `labs kubectl ...`.
package kubectl

import (
	"github.com/spf13/cobra"

	"github.com/labs-dev/labs/cmd/cmdutil"
	kubectlrun "github.com/labs-dev/labs/runner/kubectl"
)

// NewCommand returns `labs kubectl`, the built-in kubectl pointed at the lab
// cluster and the current lab's namespace.
func NewCommand(f *cmdutil.Factory) *cobra.Command {
	return &cobra.Command{
		Use: "kubectl [kubectl arguments]",
		// kubectl handles signals itself (port-forward, exec -t) or takes
		// the default: Ctrl-C must stop `labs kubectl proxy` at once. Also
		// keeps klog as kubectl's own -v flag sets it.
		PersistentPreRun: func(*cobra.Command, []string) {
			if f.RestoreSignals != nil {
				f.RestoreSignals()
			}
		},
		Short:              "Run the built-in kubectl against the lab cluster",
		Example:            "  labs kubectl get pods -o wide\n  labs kubectl exec -it deploy/web -- sh",
		DisableFlagParsing: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			paths, err := f.Paths()
			if err != nil {
				return err
			}
			return kubectlrun.Run(cmd.Context(), f.Streams.In, f.Streams.Out, f.Streams.ErrOut, paths.Kubeconfig(), args)
		},
	}
}
