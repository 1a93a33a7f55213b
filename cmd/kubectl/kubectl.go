// Package kubectl is `labs kubectl ...`.
package kubectl

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/labs-dev/labs/cmd/cmdutil"
	"github.com/labs-dev/labs/runner"
	kubectlrun "github.com/labs-dev/labs/runner/kubectl"
)

// capped keeps the first n bytes written to it and drops the rest.
type capped struct {
	w io.Writer
	n int
}

func (c *capped) Write(p []byte) (int, error) {
	if c.n > 0 {
		k := min(len(p), c.n)
		c.n -= k
		_, _ = c.w.Write(p[:k])
	}
	return len(p), nil
}

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
			paths, _, err := f.LabPaths()
			if err != nil {
				return err
			}
			// kubectl's own error names the admission rule; labs adds what
			// to do about it.
			var said strings.Builder
			errOut := io.MultiWriter(f.Streams.ErrOut, &capped{w: &said, n: 64 << 10})
			err = kubectlrun.RunExplained(cmd.Context(), f.Streams.In, f.Streams.Out, errOut, paths.Kubeconfig(), args)
			if why := runner.ExplainRefusal(said.String()); why != "" {
				fmt.Fprintln(f.Streams.ErrOut, why)
			}
			var fatal *kubectlrun.Fatal
			if errors.As(err, &fatal) {
				return cmdutil.ExitCode(fatal.Code) // its message is out already
			}
			return err
		},
	}
}
