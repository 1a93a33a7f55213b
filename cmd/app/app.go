// Package app is the one place labs builds its real dependencies, handles
// signals and exits.
package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"sync/atomic"
	"syscall"

	"github.com/go-logr/logr"
	"github.com/spf13/cobra"
	"k8s.io/klog/v2"

	"github.com/labs-dev/labs/cmd/answer"
	"github.com/labs-dev/labs/cmd/bundle"
	"github.com/labs-dev/labs/cmd/check"
	"github.com/labs-dev/labs/cmd/class"
	"github.com/labs-dev/labs/cmd/cmdutil"
	"github.com/labs-dev/labs/cmd/doctor"
	"github.com/labs-dev/labs/cmd/down"
	"github.com/labs-dev/labs/cmd/env"
	"github.com/labs-dev/labs/cmd/events"
	"github.com/labs-dev/labs/cmd/grade"
	"github.com/labs-dev/labs/cmd/hint"
	"github.com/labs-dev/labs/cmd/join"
	"github.com/labs-dev/labs/cmd/kubectl"
	"github.com/labs-dev/labs/cmd/labtest"
	"github.com/labs-dev/labs/cmd/lint"
	"github.com/labs-dev/labs/cmd/list"
	"github.com/labs-dev/labs/cmd/load"
	"github.com/labs-dev/labs/cmd/nav"
	"github.com/labs-dev/labs/cmd/node"
	"github.com/labs-dev/labs/cmd/reset"
	"github.com/labs-dev/labs/cmd/show"
	"github.com/labs-dev/labs/cmd/solve"
	"github.com/labs-dev/labs/cmd/start"
	"github.com/labs-dev/labs/cmd/status"
	"github.com/labs-dev/labs/cmd/stop"
	"github.com/labs-dev/labs/cmd/version"
	"github.com/labs-dev/labs/cmd/watch"
	kubectlrun "github.com/labs-dev/labs/runner/kubectl"
)

// Main runs labs with the process's arguments and returns the exit code.
// version is what a release build set (see cmd/labs), else "". Called as
// "kubectl" (lab scripts link it so), it is the built-in kubectl,
// with the default handling of signals.
func Main(version string) int {
	streams := cmdutil.IOStreams{In: os.Stdin, Out: os.Stdout, ErrOut: os.Stderr}
	if filepath.Base(os.Args[0]) == "kubectl" {
		if err := kubectlrun.Run(context.Background(), streams.In, streams.Out, streams.ErrOut, "", os.Args[1:]); err != nil {
			fmt.Fprintln(os.Stderr, "error:", err)
			return 1
		}
		return 0
	}
	ctx, sig, restore := withSignals(context.Background())
	defer restore()
	err := Run(ctx, &cmdutil.Factory{Streams: streams, Getenv: os.Getenv, RestoreSignals: restore, Version: version}, os.Args[1:])
	if s := sig(); s != nil {
		// Interrupted: a clean stop that still says so, with the shell's
		// code for that signal (130 for SIGINT, 143 for SIGTERM).
		if err == nil || errors.Is(err, context.Canceled) || errors.Is(err, cmdutil.ErrSilent) {
			fmt.Fprintln(os.Stderr, "labs: interrupted")
		} else {
			fmt.Fprintln(os.Stderr, "labs:", err)
		}
		return 128 + int(s.(syscall.Signal))
	}
	var code cmdutil.ExitCode
	if errors.As(err, &code) {
		return int(code)
	}
	if err != nil {
		if !errors.Is(err, cmdutil.ErrSilent) {
			fmt.Fprintln(os.Stderr, "labs:", err)
		}
		return 1
	}
	return 0
}

// withSignals returns a context cancelled by the first SIGINT or SIGTERM,
// a function that tells which signal came (nil if none), and restore,
// which gives both signals their default effect back. After the first
// signal the default comes back by itself: a second Ctrl-C quits at once,
// even during a slow cleanup.
func withSignals(parent context.Context) (context.Context, func() os.Signal, func()) {
	ctx, cancel := context.WithCancel(parent)
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, os.Interrupt, syscall.SIGTERM)
	var got atomic.Value
	done := make(chan struct{})
	restore := func() {
		signal.Reset(os.Interrupt, syscall.SIGTERM)
		select {
		case <-done:
		default:
			close(done)
		}
	}
	go func() {
		select {
		case s := <-ch:
			got.Store(s)
			signal.Reset(os.Interrupt, syscall.SIGTERM)
			cancel()
		case <-done:
		}
	}()
	sig := func() os.Signal {
		s, _ := got.Load().(os.Signal)
		return s
	}
	return ctx, sig, restore
}

// Run executes one labs command line with f's streams, environment and
// build.
func Run(ctx context.Context, f *cmdutil.Factory, args []string) error {
	streams := f.Streams
	root := NewRootCommand(f)
	// Before any hook: a command's own PersistentPreRun (kubectl's) would
	// shadow the root's.
	if cmd, _, err := root.Find(args); err == nil {
		if err := platformMay(runtime.GOOS, cmd); err != nil {
			return err
		}
	}
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
  labs start selfhealing    create (or resume) the cluster and start a lab
  labs check                check the current step
  labs answer VALUE         answer the step's question (when it asks one)
  labs hint | labs solve    a nudge, or the reference solution
  labs stop                 stop the cluster, keep everything (labs start resumes)
  labs doctor               is this machine ready? what is wrong?
  labs down                 delete the cluster`,
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRunE: func(cmd *cobra.Command, args []string) error {
			routeClientLogs(f.Debug || f.Getenv("LABS_DEBUG") != "", f.Streams.ErrOut)
			return submissionMay(f, cmd)
		},
	}
	root.PersistentFlags().StringVar(&f.NodeImage, "node-image", "", "kind node image (default: $LABS_NODE_IMAGE, $KIND_NODE_IMAGE, or kind's default)")
	root.PersistentFlags().StringVarP(&f.Output, "output", "o", "text", "output format: text or json")
	root.PersistentFlags().StringArrayVar(&f.LabsDirs, "labs-dir", nil, "a folder of lab files beside the built-in labs (repeatable; also LABS_PATH=DIR:DIR)")
	root.PersistentFlags().StringVar(&f.LangFlag, "lang", "", "language of labs and messages: en or ko (default: $LABS_LANG, else the locale)")
	root.PersistentFlags().BoolVar(&f.Debug, "debug", false, "show client-go's own log lines (also LABS_DEBUG=1)")
	root.AddCommand(
		start.NewCommand(f, nil),
		stop.NewCommand(f),
		down.NewCommand(f),
		status.NewCommand(f),
		doctor.NewCommand(f),
		kubectl.NewCommand(f),
		env.NewCommand(f),
		events.NewCommand(f),
		list.NewCommand(f),
		lint.NewCommand(f),
		show.NewCommand(f),
		check.NewCommand(f, nil),
		answer.NewCommand(f),
		hint.NewCommand(f),
		solve.NewCommand(f),
		reset.NewCommand(f),
		labtest.NewCommand(f, nil),
		grade.NewCommand(f, nil),
		load.NewCommand(f, nil),
		node.NewCommand(f),
		watch.NewCommand(f),
		join.NewCommand(f),
		join.NewReportCommand(f),
		class.NewCommand(f),
		bundle.NewCommand(f),
		version.NewCommand(f),
	)
	root.AddCommand(nav.NewCommands(f)...)
	return root
}

// submissionMay keeps a student's script under `labs grade` (which sets
// LABS_SUBMISSION) to what a submission needs of labs: reading a node
// (`labs node exec`, `labs node shell`). Deleting the cluster or reaching
// it as its admin is the grader's, not the student's. A guard against
// mistakes: the script runs as the grading user, who has Docker.
func submissionMay(f *cmdutil.Factory, cmd *cobra.Command) error {
	if f.Getenv("LABS_SUBMISSION") != "1" {
		return nil
	}
	switch cmd.CommandPath() {
	case "labs node exec", "labs node shell":
		return nil
	}
	return fmt.Errorf("%s is not available to a submission being graded: a step's script may use kubectl (limited to its namespace) and labs node exec", cmd.CommandPath())
}

// routeClientLogs keeps client-go's log lines (reflector errors while an API
// server is down, throttling notes) away from learners: labs says what is
// wrong in its own sentences. --debug shows them.
func routeClientLogs(debug bool, w io.Writer) {
	if debug {
		klog.ClearLogger()
		klog.SetOutput(w)
		klog.LogToStderr(false)
		return
	}
	klog.SetLogger(logr.Discard())
}
