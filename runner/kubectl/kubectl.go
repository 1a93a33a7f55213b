// Package kubectl runs the kubectl built into labs (k8s.io/kubectl), so a
// learner needs no other tool and every version matches the cluster.
package kubectl

import (
	"context"
	"io"

	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	kubectlcmd "k8s.io/kubectl/pkg/cmd"
)

// Run executes kubectl with args against kubeconfig (unless args name
// another with --kubeconfig). Plugins are not looked up: labs is offline and
// self-contained. kubectl exits the process itself on most errors, as the
// real binary does.
func Run(ctx context.Context, in io.Reader, out, errOut io.Writer, kubeconfig string, args []string) error {
	streams := genericiooptions.IOStreams{In: in, Out: out, ErrOut: errOut}
	flags := genericclioptions.NewConfigFlags(true).WithDeprecatedPasswordFlag().WithDiscoveryBurst(300).WithDiscoveryQPS(50.0).WithWarningPrinter(streams)
	if kubeconfig != "" {
		flags.KubeConfig = &kubeconfig
	}
	cmd := kubectlcmd.NewDefaultKubectlCommandWithArgs(kubectlcmd.KubectlOptions{
		Arguments:   append([]string{"kubectl"}, args...),
		ConfigFlags: flags,
		IOStreams:   streams,
	})
	cmd.SetArgs(args)
	cmd.SetIn(in)
	cmd.SetOut(out)
	cmd.SetErr(errOut)
	return cmd.ExecuteContext(ctx)
}
