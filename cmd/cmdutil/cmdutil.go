// Package cmdutil holds what every labs command shares: the IO streams and
// the factory that builds the runner from flags and environment.
package cmdutil

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/labs-dev/labs/content"
	"github.com/labs-dev/labs/labs"
	"github.com/labs-dev/labs/runner"
	"github.com/labs-dev/labs/runner/docker"
	"github.com/labs-dev/labs/runner/kindcluster"
)

// IOStreams are injected so every command runs in tests without a terminal.
type IOStreams struct {
	In     io.Reader
	Out    io.Writer
	ErrOut io.Writer
}

// IsTerminal reports whether f is a terminal: a question about the device,
// not about colour (see Factory.Color).
func IsTerminal(f any) bool {
	file, ok := f.(*os.File)
	return ok && term.IsTerminal(int(file.Fd()))
}

// Factory builds the runner on demand: commands that need no cluster (list,
// hint) never touch Docker.
type Factory struct {
	Streams IOStreams
	// Getenv reads the environment (os.Getenv; a map in tests).
	Getenv func(string) string
	// NodeImage is the --node-image flag.
	NodeImage string
	// Output is the --output flag: "text" or "json".
	Output string
	// Debug is the --debug flag: client-go's own log lines go to stderr.
	Debug bool
	// LabsDirs are the --labs-dir flags: folders of labs beside the
	// built-in ones (LABS_PATH adds more).
	LabsDirs []string
	// LangFlag is the --lang flag.
	LangFlag string
	// RestoreSignals gives Ctrl-C and SIGTERM their default effect back, for
	// commands (the built-in kubectl) that handle signals themselves or not
	// at all. Nil in tests.
	RestoreSignals func()
	// Version is what a release build set (-ldflags -X main.version), else
	// "": see runner/buildinfo.
	Version string
}

// ClusterName is the kind cluster labs uses; LABS_CLUSTER_NAME overrides it
// so tests can run beside a learner's cluster.
func (f *Factory) ClusterName() string {
	if n := f.Getenv("LABS_CLUSTER_NAME"); n != "" {
		return n
	}
	return runner.DefaultCluster
}

// clusterName matches the names kind accepts; it also keeps the name from
// leading its files out of the state dir ("../..").
var clusterName = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`)

// Paths are the files of this cluster: its kubeconfig, lock and progress.
func (f *Factory) Paths() (runner.Paths, error) {
	name := f.ClusterName()
	if len(name) > 50 || !clusterName.MatchString(name) {
		return runner.Paths{}, fmt.Errorf("LABS_CLUSTER_NAME %q is not a cluster name: use up to 50 lower-case letters, digits and '-'", name)
	}
	return runner.DefaultPaths(name)
}

// LabPaths are the files labs runs with: the kind cluster's, or, on a
// machine joined to a class (`labs join`), the class's, with the
// membership.
func (f *Factory) LabPaths() (runner.Paths, *runner.Joined, error) {
	paths, err := f.Paths()
	if err != nil {
		return runner.Paths{}, nil, err
	}
	joined, err := runner.ReadJoined(paths)
	if err != nil {
		return runner.Paths{}, nil, err
	}
	if joined != nil {
		// A class's files sit apart: the kind cluster's stay as they were.
		paths = runner.ClassPaths(paths)
	}
	return paths, joined, nil
}

// Color reports whether output to w gets ANSI colour: only on a terminal,
// and never with NO_COLOR set or TERM=dumb.
func (f *Factory) Color(w io.Writer) bool {
	return IsTerminal(w) && ColorWanted(f.Getenv)
}

// ColorWanted reads the environment's say on colour: NO_COLOR (any value)
// and TERM=dumb turn it off.
func ColorWanted(getenv func(string) string) bool {
	return getenv("NO_COLOR") == "" && getenv("TERM") != "dumb"
}

// CanPrompt reports whether a question can be asked and answered: stdin is
// a terminal (colour has nothing to do with it).
func (f *Factory) CanPrompt() bool { return IsTerminal(f.Streams.In) }

// JSON reports whether --output json was asked for.
func (f *Factory) JSON() bool { return f.Output == "json" }

// ValidateOutput checks --output.
func (f *Factory) ValidateOutput() error {
	if f.Output != "text" && f.Output != "json" {
		return fmt.Errorf("--output must be text or json, not %q", f.Output)
	}
	return nil
}

// Runner builds the runner with real adapters. Docker is reached only when
// a command uses it.
func (f *Factory) Runner() (*runner.Runner, error) {
	paths, joined, err := f.LabPaths()
	if err != nil {
		return nil, err
	}
	var rewrite func([]byte) []byte
	if joined != nil && joined.Images != "" {
		// The class's nodes pull the workload from its registry: the labs
		// name it there (text, manifests, commands, checks).
		rewrite = joined.Registry().Rewrite
	}
	cat, err := f.catalog(rewrite)
	if err != nil {
		return nil, err
	}
	exe, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("finding the labs binary: %w", err)
	}
	eng := docker.New()
	outStyle := content.Style{Color: f.Color(f.Streams.Out), Width: 80}
	display := f.Display()
	cl := kindcluster.New(f.ClusterName(), paths.Kubeconfig(), eng, kindcluster.WithStatus(display.Status))
	r := &runner.Runner{
		Cluster:    cl,
		Docker:     eng,
		Paths:      paths,
		Catalog:    cat,
		NodeImage:  f.DefaultNodeImage(),
		Executable: exe,
		Out:        f.Streams.Out,
		ErrOut:     f.Streams.ErrOut,
		Style:      outStyle,
		Display:    display,
		Nodes:      3,
		Version:    f.Version,
	}
	if joined != nil {
		r.Target = runner.NewClassTarget(r, *joined)
	} else if rep, err := runner.ReadReporting(paths); err == nil && rep != nil {
		// A class whose learners run labs here: events go to its server.
		r.Reporting = rep
		r.KickReporter = func() { runner.StartReporter(exe, os.Environ()) }
	}
	return r, nil
}

// AdminClient connects with an instructor's kubeconfig (`labs class`):
// the file given, else the kubeconfig of labs' own kind cluster.
func (f *Factory) AdminClient(kubeconfig string) (kubernetes.Interface, *rest.Config, error) {
	if kubeconfig == "" {
		paths, err := f.Paths()
		if err != nil {
			return nil, nil, err
		}
		kubeconfig = paths.Kubeconfig()
	}
	cfg, err := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(
		&clientcmd.ClientConfigLoadingRules{ExplicitPath: kubeconfig}, &clientcmd.ConfigOverrides{}).ClientConfig()
	if err != nil {
		return nil, nil, fmt.Errorf("reading the instructor's kubeconfig %s: %w (give --kubeconfig FILE, or `labs start LAB` first to use labs' own cluster)", kubeconfig, err)
	}
	cfg.QPS, cfg.Burst = 50, 100
	cfg.Timeout = 30 * time.Second
	c, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, nil, err
	}
	return c, cfg, nil
}

// LabCatalog is the catalog with every lab file's text passed through
// rewrite (nil: as written), for the instructor's view of a class.
func (f *Factory) LabCatalog(rewrite func([]byte) []byte) (*runner.Catalog, error) {
	return f.catalog(rewrite)
}

// catalog loads the built-in labs, then the folders of --labs-dir and
// LABS_PATH (separated like PATH), with the learner's language, each
// file's text passed through rewrite if not nil.
func (f *Factory) catalog(rewrite func([]byte) []byte) (*runner.Catalog, error) {
	lang, err := f.Lang()
	if err != nil {
		return nil, err
	}
	sources := []runner.Source{{Origin: runner.BuiltIn, FS: labs.FS, Linted: true}}
	dirs := append([]string{}, f.LabsDirs...)
	dirs = append(dirs, filepath.SplitList(f.Getenv("LABS_PATH"))...)
	for _, d := range dirs {
		if d == "" {
			continue
		}
		if fi, err := os.Stat(d); err != nil || !fi.IsDir() {
			// A folder gone from LABS_PATH must not stop labs down or status.
			fmt.Fprintf(f.Streams.ErrOut, "labs: lab folder %s (from --labs-dir or LABS_PATH) is not a folder that can be read (%s): its labs are left out\n", d, statProblem(fi, err))
			continue
		}
		sources = append(sources, runner.DirSource(d))
	}
	cat, err := runner.LoadCatalogIn(lang, rewrite, sources...)
	if err != nil {
		return nil, fmt.Errorf("loading the labs: %w", err)
	}
	if lang != "" && !cat.Languages()[lang] && !content.HasMessages(lang) && (f.LangFlag != "" || f.Getenv("LABS_LANG") != "") {
		langs := []string{"en"}
		for l := range cat.Languages() {
			langs = append(langs, l)
		}
		sort.Strings(langs)
		fmt.Fprintf(f.Streams.ErrOut, "labs: no lab or message is in %q; the languages are %s: showing English\n", lang, strings.Join(langs, ", "))
	}
	return cat, nil
}

func statProblem(fi os.FileInfo, err error) string {
	if err != nil {
		return err.Error()
	}
	return fi.Name() + " is a file"
}

// langCode is a two-letter language code, as in ko_KR.UTF-8.
var langCode = regexp.MustCompile(`^([a-z]{2})(?:[_.@-]|$)`)

// Lang is the learner's language: --lang, else LABS_LANG, else the locale
// (LC_ALL, LC_MESSAGES, LANG). "" is English, the labs' original language.
// A language no lab is translated to shows the originals.
func (f *Factory) Lang() (string, error) {
	for _, v := range []struct{ from, value string }{{"--lang", f.LangFlag}, {"LABS_LANG", f.Getenv("LABS_LANG")}} {
		if v.value == "" {
			continue
		}
		m := langCode.FindStringSubmatch(strings.ToLower(v.value))
		if m == nil {
			return "", fmt.Errorf("%s %q is not a language: use a two-letter code such as en or ko", v.from, v.value)
		}
		return english(m[1]), nil
	}
	for _, k := range []string{"LC_ALL", "LC_MESSAGES", "LANG"} {
		if v := f.Getenv(k); v != "" {
			if m := langCode.FindStringSubmatch(strings.ToLower(v)); m != nil {
				return english(m[1]), nil
			}
			return "", nil // C, POSIX: the originals
		}
	}
	return "", nil
}

func english(code string) string {
	if code == "en" {
		return ""
	}
	return code
}

// nodeImage: --node-image, else LABS_NODE_IMAGE, else KIND_NODE_IMAGE, else
// kind's default.
// DefaultNodeImage is the kind node image labs starts clusters with: the
// --node-image flag, else $LABS_NODE_IMAGE, $KIND_NODE_IMAGE, the one
// `labs bundle import` set, or kind's default.
func (f *Factory) DefaultNodeImage() string {
	if f.NodeImage != "" {
		return f.NodeImage
	}
	if v := f.Getenv("LABS_NODE_IMAGE"); v != "" {
		return v
	}
	if v := f.Getenv("KIND_NODE_IMAGE"); v != "" {
		return v
	}
	if paths, err := f.Paths(); err == nil {
		if v := runner.ReadDefaultNodeImage(paths); v != "" {
			return v
		}
	}
	return kindcluster.DefaultNodeImage
}

// Display is the progress and status display on stderr: timed lines,
// coloured and redrawn on a terminal, plain when piped.
func (f *Factory) Display() *runner.Display {
	return runner.NewDisplay(f.Streams.ErrOut, content.Style{Color: f.Color(f.Streams.ErrOut)}, IsTerminal(f.Streams.ErrOut) && f.Getenv("TERM") != "dumb")
}

// Run adapts a use case of the runner into a cobra RunE: it builds the
// runner only when the command runs, so --help never touches Docker.
func (f *Factory) Run(fn func(ctx context.Context, r *runner.Runner) error) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, args []string) error {
		r, err := f.Runner()
		if err != nil {
			return err
		}
		return fn(cmd.Context(), r)
	}
}

// ExactArgs is cobra.ExactArgs with a message that says what to type.
func ExactArgs(n int, usage string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) != n {
			return fmt.Errorf("usage: %s", usage)
		}
		return nil
	}
}

// ErrSilent wraps errors whose details a command already printed: the app
// exits non-zero without printing them again.
var ErrSilent = errors.New("silent")

// ExitCode is an error that ends labs with a given exit code and no
// message: `labs node exec` ends as the command it ran did.
type ExitCode int

func (e ExitCode) Error() string { return fmt.Sprintf("exit status %d", int(e)) }
