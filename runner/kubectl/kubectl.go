// Package kubectl runs the kubectl built into labs (k8s.io/kubectl), so a
// learner needs no other tool and every version matches the cluster.
package kubectl

import (
	"context"
	"io"
	"strings"

	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	kubectlcmd "k8s.io/kubectl/pkg/cmd"
	cmdutil "k8s.io/kubectl/pkg/cmd/util"

	// kubectl's English message catalogue is not parsed (see the package).
	_ "github.com/labs-dev/labs/runner/kubectl/translations"
)

// Run executes kubectl with args against kubeconfig (unless args name
// another with --kubeconfig). Plugins are not looked up: labs is offline and
// self-contained. kubectl exits the process itself on most errors, as the
// real binary does; RunExplained returns instead, so labs can add to it.
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

// Fatal is kubectl's own fatal error (what it would print before exiting
// with Code): RunExplained returns it instead of exiting.
type Fatal struct {
	Msg  string
	Code int
}

func (f *Fatal) Error() string { return strings.TrimSuffix(f.Msg, "\n") }

// RunExplained is Run for a command that wants the last word: kubectl's
// fatal errors come back as *Fatal, their message already written to
// errOut. kubectl reports them through a process-wide handler, so this is
// only for a process that runs one kubectl command (`labs kubectl`).
func RunExplained(ctx context.Context, in io.Reader, out, errOut io.Writer, kubeconfig string, args []string) (err error) {
	cmdutil.BehaviorOnFatal(func(msg string, code int) { panic(&Fatal{Msg: msg, Code: code}) })
	defer cmdutil.DefaultBehaviorOnFatal()
	defer func() {
		p := recover()
		if p == nil {
			return
		}
		f, ok := p.(*Fatal)
		if !ok {
			panic(p)
		}
		if f.Msg != "" {
			msg := f.Msg
			if !strings.HasSuffix(msg, "\n") {
				msg += "\n"
			}
			_, _ = io.WriteString(errOut, msg)
		}
		err = f
	}()
	return Run(ctx, in, out, errOut, kubeconfig, args)
}
