package runner

import (
	"context"
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
	for k, v := range e.vars {
		env = append(env, k+"="+v)
	}
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if _, ours := e.vars[k]; !ours && k != "KUBECONFIG" && k != "PATH" && k != "LAB_ANSWER_FILE" {
			env = append(env, kv)
		}
	}
	return env
}

// run executes a shell script (sh -e) with output to out, stopping it when
// ctx ends or after timeout.
func (e *scriptEnv) run(ctx context.Context, script string, out io.Writer, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	path := filepath.Join(e.dir, "script.sh")
	if err := os.WriteFile(path, []byte(script), 0o600); err != nil {
		return err
	}
	cmd := exec.CommandContext(ctx, "sh", "-e", path)
	cmd.Env, cmd.Dir = e.environ(), e.dir
	cmd.Stdout, cmd.Stderr = out, out
	cmd.WaitDelay = 5 * time.Second
	if err := cmd.Run(); err != nil {
		if ctx.Err() == context.DeadlineExceeded {
			return fmt.Errorf("script did not finish within %s", timeout)
		}
		return fmt.Errorf("script failed: %w", err)
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
