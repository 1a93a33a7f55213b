package runner

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/labs-dev/labs/checks"
	"github.com/labs-dev/labs/content"
)

// scriptEnv is a temporary directory holding what a lab script needs: a
// kubeconfig that defaults to the lab's namespace, and `kubectl` linked to
// the labs binary itself (which acts as kubectl when called by that name).
type scriptEnv struct {
	dir        string
	kubeconfig string
	namespace  string
	vars       map[string]string // the lab's facts and captured values, as environment variables
	out        io.Writer         // where actions run by checks write
	// submission: a student's scripts run here (labs grade): a home of
	// their own, no labs configuration, and what they leave running is
	// stopped after each step.
	submission bool
	groups     []int // process groups started, for killLeftovers
}

func (r *Runner) newScriptEnv(ns string, captured map[string]string) (*scriptEnv, error) {
	dir, err := os.MkdirTemp("", "labs-script-")
	if err != nil {
		return nil, err
	}
	e := &scriptEnv{dir: dir, kubeconfig: filepath.Join(dir, "kubeconfig"), namespace: ns, vars: r.vars(ns, captured), out: io.Discard}
	if err := r.writeKubeconfigFor(e.kubeconfig, ns); err != nil {
		e.Close()
		return nil, err
	}
	if err := os.MkdirAll(filepath.Join(dir, "home"), 0o700); err != nil {
		e.Close()
		return nil, err
	}
	if err := os.MkdirAll(filepath.Join(dir, "bin"), 0o700); err != nil {
		e.Close()
		return nil, err
	}
	// kubectl is labs' own; labs itself too, for `labs node exec`.
	for _, name := range []string{"kubectl", "labs"} {
		if err := os.Symlink(r.Executable, filepath.Join(dir, "bin", name)); err != nil {
			e.Close()
			return nil, fmt.Errorf("linking %s for lab scripts: %w", name, err)
		}
	}
	return e, nil
}

// answerFile is where a reference solution writes its answer to the
// step's question (answer checks): $LAB_ANSWER_FILE.
func (e *scriptEnv) answerFile() string { return filepath.Join(e.dir, "answer") }

// takeAnswer returns what the last script wrote to $LAB_ANSWER_FILE ("" if
// nothing) and removes it, so the next step starts without one.
func (e *scriptEnv) takeAnswer() string {
	b, err := os.ReadFile(e.answerFile())
	if err != nil {
		return ""
	}
	os.Remove(e.answerFile())
	return strings.TrimSpace(string(b))
}

func (e *scriptEnv) Close() { os.RemoveAll(e.dir) }

func (e *scriptEnv) environ() []string {
	env := []string{
		"KUBECONFIG=" + e.kubeconfig,
		"LAB_ANSWER_FILE=" + e.answerFile(),
		"PATH=" + filepath.Join(e.dir, "bin") + string(os.PathListSeparator) + os.Getenv("PATH"),
	}
	if e.submission {
		// Not the grader's home, config or state: the labs kubeconfig
		// there is the cluster admin's. labs itself serves only `labs
		// node` to a submission (LABS_SUBMISSION).
		env = append(env, "HOME="+filepath.Join(e.dir, "home"), "LABS_SUBMISSION=1")
	}
	for k, v := range e.vars {
		env = append(env, k+"="+v)
	}
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if _, ours := e.vars[k]; ours || k == "KUBECONFIG" || k == "PATH" || k == "LAB_ANSWER_FILE" {
			continue
		}
		if e.submission && (k == "HOME" || strings.HasPrefix(k, "XDG_") || k == "LABS_SUBMISSION") {
			continue
		}
		env = append(env, kv)
	}
	return env
}

// killLeftovers stops what a submission's scripts left running (a loop in
// the background would change the namespace during later steps).
func (e *scriptEnv) killLeftovers() {
	for _, g := range e.groups {
		killGroup(g)
	}
	e.groups = nil
}

// run executes a shell script (sh -e) with output to out, stopping it when
// ctx ends or after timeout.
func (e *scriptEnv) run(ctx context.Context, script string, out io.Writer, timeout time.Duration) error {
	path := filepath.Join(e.dir, "script.sh")
	if err := os.WriteFile(path, []byte(script), 0o600); err != nil {
		return err
	}
	return e.runFile(ctx, path, out, timeout)
}

// errTimedOut: a script ran past its time and was stopped.
var errTimedOut = errors.New("did not finish in time")

// tail keeps the last bytes written to it: what a failed script said last.
type tail struct{ b []byte }

func (t *tail) Write(p []byte) (int, error) {
	t.b = append(t.b, p...)
	if len(t.b) > 600 {
		t.b = t.b[len(t.b)-600:]
	}
	return len(p), nil
}

// lastLines is the end of what a script printed, on one line.
func (t *tail) lastLines() string {
	lines := strings.Split(strings.TrimSpace(string(t.b)), "\n")
	if len(lines) > 3 {
		lines = lines[len(lines)-3:]
	}
	return strings.Join(lines, " / ")
}

// runFile runs the script at path with sh -e in the script's folder of this
// environment, stopping it (and what it started) when ctx ends or after
// timeout. A failure ends with the last lines the script printed.
func (e *scriptEnv) runFile(ctx context.Context, path string, out io.Writer, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "sh", "-e", path)
	// A student's script runs in its own folder, beside the files it names.
	cmd.Env, cmd.Dir = e.environ(), filepath.Dir(path)
	var last tail
	w := io.MultiWriter(out, &last)
	cmd.Stdout, cmd.Stderr = w, w
	cmd.WaitDelay = 5 * time.Second
	// Its own process group: a timeout stops what it started too.
	cmd.SysProcAttr = newGroup()
	cmd.Cancel = func() error { killGroup(cmd.Process.Pid); return nil }
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("script: %w", err)
	}
	if e.submission {
		e.groups = append(e.groups, cmd.Process.Pid)
	}
	if err := cmd.Wait(); err != nil {
		if ctx.Err() == context.DeadlineExceeded {
			return fmt.Errorf("script %w: stopped after %s", errTimedOut, timeout)
		}
		if why := ExplainRefusal(string(last.b)); why != "" {
			return fmt.Errorf("script failed: %w: %s\n%s", err, last.lastLines(), why)
		}
		if s := last.lastLines(); s != "" {
			return fmt.Errorf("script failed: %w: %s", err, s)
		}
		return fmt.Errorf("script failed: %w", err)
	}
	return nil
}

// applyDir applies a folder of manifests with kubectl, as a student's step
// of manifests is.
func (e *scriptEnv) applyDir(ctx context.Context, dir string, out io.Writer, timeout time.Duration) error {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var last tail
	err = e.kubectl(ctx, "", io.MultiWriter(out, &last), "apply", "--recursive", "-f", abs)
	switch {
	case ctx.Err() == context.DeadlineExceeded:
		return fmt.Errorf("kubectl apply %w: stopped after %s", errTimedOut, timeout)
	case err != nil:
		if why := ExplainRefusal(string(last.b)); why != "" {
			return fmt.Errorf("%w: %s\n%s", err, last.lastLines(), why)
		}
		return fmt.Errorf("%w: %s", err, last.lastLines())
	}
	return nil
}

// kubectl runs the embedded kubectl with stdin, e.g. to apply manifests.
func (e *scriptEnv) kubectl(ctx context.Context, stdin string, out io.Writer, args ...string) error {
	cmd := exec.CommandContext(ctx, filepath.Join(e.dir, "bin", "kubectl"), args...)
	cmd.Env, cmd.Dir = e.environ(), e.dir
	cmd.Stdin = strings.NewReader(stdin)
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("kubectl %s: %w", strings.Join(args, " "), err)
	}
	return nil
}

// setup runs a lab's setup blocks: manifests are applied, scripts run.
func (r *Runner) setup(ctx context.Context, e *scriptEnv, lab *content.Lab, out io.Writer) error {
	return r.runBlocks(ctx, e, lab, lab.Setup, "setup", out)
}

// runBlocks applies manifests and runs scripts, in order; an error names
// the block's line.
func (r *Runner) runBlocks(ctx context.Context, e *scriptEnv, lab *content.Lab, blocks []content.Setup, what string, out io.Writer) error {
	for _, b := range blocks {
		var err error
		if b.Script {
			err = e.run(ctx, b.Text, out, 5*time.Minute)
		} else {
			err = e.kubectl(ctx, checks.ExpandVars(b.Text, e.vars), out, "apply", "-f", "-")
		}
		if err != nil {
			return fmt.Errorf("%s:%d: %s: %w", lab.Source, b.Line, what, err)
		}
	}
	return nil
}
