// Package class is `labs class up|down|list|reset|serve|status|export`: the instructor's
// commands for a class on a cluster they already have.
package class

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/labs-dev/labs/cmd/cmdutil"
	"github.com/labs-dev/labs/content"
	"github.com/labs-dev/labs/runner"
	"github.com/labs-dev/labs/runner/class"
	"github.com/labs-dev/labs/runner/images"
)

// NewCommand returns `labs class` and its subcommands.
func NewCommand(f *cmdutil.Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "class",
		Short: "Run a class on a cluster you have: one namespace per learner (instructors)",
		Long: `Provision a class on an existing cluster: each learner gets a namespace of
their own, confined by RBAC, Pod Security, a quota and NetworkPolicies, and a
kubeconfig file to hand out. Learners run 'labs join FILE' and then the labs
of scope namespace, with no Docker on their machine. See docs/class.md.

Without --kubeconfig, labs' own kind cluster on this machine is used.`,
	}
	var kubeconfig string
	cmd.PersistentFlags().StringVar(&kubeconfig, "kubeconfig", "", "the instructor's kubeconfig (cluster-admin); default: labs' own cluster")
	cmd.AddCommand(newUp(f, &kubeconfig), newDown(f, &kubeconfig), newList(f, &kubeconfig), newReset(f, &kubeconfig),
		newServe(f, &kubeconfig), newStatus(f, &kubeconfig), newExport(f, &kubeconfig))
	return cmd
}

// UpOptions are `labs class up`'s.
type UpOptions struct {
	class.Options
	NamesFile  string
	Kubeconfig string
	// RegistryRef and PlainHTTP are --registry and --plain-http, read into
	// Options.Registry by Validate.
	RegistryRef string
	PlainHTTP   bool
}

// Validate checks the flags without I/O (the names file is read first).
func (o *UpOptions) Validate() error {
	if o.NamesFile != "" {
		names, err := class.ReadNames(o.NamesFile)
		if err != nil {
			return err
		}
		o.Names = names
	}
	if o.RegistryRef != "" {
		reg, err := images.ParseRegistry(o.RegistryRef)
		if err != nil {
			return fmt.Errorf("--registry: %w", err)
		}
		reg.PlainHTTP = o.PlainHTTP
		o.Registry = &reg
	} else if o.PlainHTTP {
		return fmt.Errorf("--plain-http says how to reach a --registry, and none is given")
	}
	return o.Options.Validate()
}

func newUp(f *cmdutil.Factory, kubeconfig *string) *cobra.Command {
	o := &UpOptions{Options: class.Options{Budget: "small", Expires: 8 * time.Hour, PodSecurity: "baseline", Dir: "class-kubeconfigs"}}
	cmd := &cobra.Command{
		Use:   "up --class NAME (--learners N | --names FILE)",
		Short: "Make (or complete) a class: namespaces, rights, budgets and a kubeconfig per learner",
		Long: `Make one namespace per learner (CLASS-LEARNER), a ServiceAccount bound to the
labs-learner role there, Pod Security enforced, a quota and default limits
(--budget), NetworkPolicies that keep other learners and the cloud metadata
address out, and a kubeconfig file per learner in --dir whose token expires
with the class (--expires). Running it again adds learners and writes fresh
files; nothing is duplicated.

On a cluster whose nodes labs cannot load images into (any cluster but labs'
own kind cluster), --registry REG pushes the workload image (labapp:v1..v3,
amd64 and arm64) to a registry the nodes pull from; the learners' labs then
name it REG/labapp:TAG everywhere. A registry that asks for credentials gets
LABS_REGISTRY_USER and LABS_REGISTRY_PASSWORD.`,
		Example: "  labs class up --class k8s101 --learners 20\n  labs class up --class k8s101 --names roster.txt --budget medium --expires 6h --server https://10.0.0.5:6443\n  labs class up --class k8s101 --learners 30 --registry registry.example.com/k8s101 --pod-security restricted",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := f.ValidateOutput(); err != nil {
				return err
			}
			if err := o.Validate(); err != nil {
				return err
			}
			c, cfg, err := f.AdminClient(*kubeconfig)
			if err != nil {
				return err
			}
			if o.Registry != nil {
				o.Registry.Username, o.Registry.Password = f.Getenv("LABS_REGISTRY_USER"), f.Getenv("LABS_REGISTRY_PASSWORD")
			}
			status := func(s string) { fmt.Fprintln(f.Streams.ErrOut, s) }
			rep, err := class.Up(cmd.Context(), c, cfg, o.Options, status)
			if err != nil {
				return err
			}
			if f.JSON() {
				return runner.WriteJSON(f.Streams.Out, rep)
			}
			added := 0
			t := content.NewTable("LEARNER", "NAMESPACE", "KUBECONFIG", "NEW")
			for _, l := range rep.Learners {
				if l.Added {
					added++
				}
				t.Row(l.Name, l.Namespace, l.Kubeconfig, map[bool]string{true: "yes", false: "-"}[l.Added])
			}
			if err := t.Write(f.Streams.Out); err != nil {
				return err
			}
			exp := ""
			for i, l := range rep.Learners {
				// The earliest: the API server may cap some tokens.
				if i == 0 || l.Expires.Local().Format(time.DateTime) < exp {
					exp = l.Expires.Local().Format(time.DateTime)
				}
			}
			first := "selfhealing"
			if o.PodSecurity == "restricted" {
				first = "rollouts" // selfhealing's pods need baseline
			}
			fmt.Fprintf(f.Streams.ErrOut, "class %s: %d learners (%d new), budget %s, tokens valid until %s, in %.1fs; hand each learner their file: `labs join FILE`, then `labs start %s`\n",
				rep.Class, len(rep.Learners), added, rep.Budget, exp, rep.Seconds, first)
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&o.Class, "class", "", "the class's name (namespaces are CLASS-LEARNER)")
	fl.IntVar(&o.Learners, "learners", 0, "how many learners (learner-01, learner-02, ...)")
	fl.StringVar(&o.NamesFile, "names", "", "a file of learner names, one a line")
	fl.StringVar(&o.Budget, "budget", o.Budget, "each learner's quota: small, medium or large")
	fl.DurationVar(&o.Expires, "expires", o.Expires, "how long the learners' tokens last")
	fl.StringVar(&o.Dir, "dir", o.Dir, "where the learners' kubeconfig files are written")
	fl.StringVar(&o.Server, "server", "", "the API server address learners use, if not the one in your kubeconfig")
	fl.StringVar(&o.PodSecurity, "pod-security", o.PodSecurity, "the Pod Security level enforced: baseline or restricted")
	fl.StringVar(&o.RegistryRef, "registry", "", "push the workload image to this registry (host[:port][/path]) for nodes labs cannot load")
	fl.BoolVar(&o.PlainHTTP, "plain-http", false, "the --registry speaks HTTP, not HTTPS")
	_ = cmd.MarkFlagRequired("class")
	return cmd
}

func newDown(f *cmdutil.Factory, kubeconfig *string) *cobra.Command {
	var name string
	var wait time.Duration
	cmd := &cobra.Command{
		Use:   "down --class NAME",
		Short: "Delete a class: every learner's namespace, with all that is in it",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, _, err := f.AdminClient(*kubeconfig)
			if err != nil {
				return err
			}
			status := func(s string) { fmt.Fprintln(f.Streams.ErrOut, s) }
			gone, err := class.Down(cmd.Context(), c, name, wait, status)
			if err != nil {
				return err
			}
			fmt.Fprintf(f.Streams.ErrOut, "class %s is down: %d namespaces deleted; the learners' files no longer work\n", name, len(gone))
			return nil
		},
	}
	cmd.Flags().StringVar(&name, "class", "", "the class to delete")
	cmd.Flags().DurationVar(&wait, "wait", 3*time.Minute, "how long to wait for the namespaces to go")
	_ = cmd.MarkFlagRequired("class")
	return cmd
}

func newList(f *cmdutil.Factory, kubeconfig *string) *cobra.Command {
	var name string
	cmd := &cobra.Command{
		Use:   "list [--class NAME]",
		Short: "The learners of a class (or of every class) and where each one is",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := f.ValidateOutput(); err != nil {
				return err
			}
			c, _, err := f.AdminClient(*kubeconfig)
			if err != nil {
				return err
			}
			rep, err := class.List(cmd.Context(), c, name)
			if err != nil {
				return err
			}
			if f.JSON() {
				return runner.WriteJSON(f.Streams.Out, rep)
			}
			if len(rep.Learners) == 0 {
				fmt.Fprintln(f.Streams.ErrOut, "no learners: `labs class up --class NAME --learners N` makes a class")
				return nil
			}
			t := content.NewTable("NAMESPACE", "LAB", "STEP", "DONE", "HINTS", "SOLVES", "LAST CHANGE", "EXPIRES")
			for _, l := range rep.Learners {
				lab, step, done, last := "-", "-", "-", "-"
				if l.Lab != "" {
					lab, step, done = l.Lab, fmt.Sprint(l.Step), fmt.Sprint(l.Done)
					last = time.Since(l.Updated).Round(time.Second).String() + " ago"
				}
				t.Row(l.Namespace, lab, step, done, fmt.Sprint(l.Hints), fmt.Sprint(l.Solves), last, l.Expires.Local().Format(time.DateTime))
			}
			return t.Write(f.Streams.Out)
		},
	}
	cmd.Flags().StringVar(&name, "class", "", "the class (default: every class)")
	return cmd
}

func newReset(f *cmdutil.Factory, kubeconfig *string) *cobra.Command {
	var name string
	cmd := &cobra.Command{
		Use:   "reset --class NAME LEARNER",
		Short: "Empty one learner's namespace and forget their progress (their file keeps working)",
		Args:  cmdutil.ExactArgs(1, "labs class reset --class NAME LEARNER"),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, _, err := f.AdminClient(*kubeconfig)
			if err != nil {
				return err
			}
			if err := class.Reset(cmd.Context(), c, name, args[0]); err != nil {
				return err
			}
			fmt.Fprintf(f.Streams.ErrOut, "learner %s of class %s reset: namespace %s is empty, progress forgotten\n", args[0], name, class.Namespace(name, args[0]))
			return nil
		},
	}
	cmd.Flags().StringVar(&name, "class", "", "the class")
	_ = cmd.MarkFlagRequired("class")
	return cmd
}
