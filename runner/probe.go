package runner

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apiserver/pkg/authentication/serviceaccount"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/remotecommand"
	utilexec "k8s.io/client-go/util/exec"

	"github.com/labs-dev/labs/checks"
	"github.com/labs-dev/labs/runner/node"
)

// errNoCluster is what probes say when there is no real cluster to ask.
var errNoCluster = errors.New("no cluster connection to run this through")

// Exec runs a command in a container through the API server, as `kubectl
// exec` does, and returns its output and exit code.
func (p *prober) Exec(ctx context.Context, req checks.ExecRequest) (checks.ExecResult, error) {
	if p.cfg == nil {
		return checks.ExecResult{}, errNoCluster
	}
	u := p.c.CoreV1().RESTClient().Post().Resource("pods").Namespace(req.Namespace).Name(req.Pod).SubResource("exec").
		VersionedParams(&corev1.PodExecOptions{Container: req.Container, Command: req.Command, Stdout: true, Stderr: true}, scheme.ParameterCodec).URL()
	ex, err := remotecommand.NewSPDYExecutor(p.cfg, http.MethodPost, u)
	if err != nil {
		return checks.ExecResult{}, err
	}
	var out, errOut bytes.Buffer
	err = ex.StreamWithContext(ctx, remotecommand.StreamOptions{Stdout: &limited{w: &out, n: 64 << 10}, Stderr: &limited{w: &errOut, n: 16 << 10}})
	res := checks.ExecResult{Stdout: out.String(), Stderr: errOut.String()}
	var exit utilexec.ExitError
	if errors.As(err, &exit) && exit.Exited() {
		res.ExitCode, err = exit.ExitStatus(), nil
	}
	return res, err
}

// limited keeps the first n bytes written: a command that prints a flood
// does not fill memory.
type limited struct {
	w io.Writer
	n int
}

func (l *limited) Write(b []byte) (int, error) {
	keep := min(len(b), l.n)
	if keep > 0 {
		if _, err := l.w.Write(b[:keep]); err != nil {
			return 0, err
		}
		l.n -= keep
	}
	return len(b), nil
}

// HTTP sends a GET through the API server's proxy to a Service or pod of
// the lab namespace: the request is made inside the cluster, and the
// answer's status, headers and body come back as the workload sent them.
func (p *prober) HTTP(ctx context.Context, req checks.HTTPRequest) (checks.HTTPResponse, error) {
	if p.cfg == nil {
		return checks.HTTPResponse{}, errNoCluster
	}
	hc, err := rest.HTTPClientFor(p.cfg)
	if err != nil {
		return checks.HTTPResponse{}, err
	}
	kind, name := "services", req.Service
	if req.Pod != "" {
		kind, name = "pods", req.Pod
	}
	if req.Port != "" {
		name += ":" + req.Port
	}
	target := strings.TrimSuffix(p.cfg.Host, "/") + "/api/v1/namespaces/" + url.PathEscape(req.Namespace) + "/" + kind + "/" + url.PathEscape(name) + "/proxy" + req.Path
	r, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
	if err != nil {
		return checks.HTTPResponse{}, fmt.Errorf("request to %s: %w", name, err)
	}
	resp, err := hc.Do(r)
	if err != nil {
		return checks.HTTPResponse{}, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if err != nil {
		return checks.HTTPResponse{}, err
	}
	return checks.HTTPResponse{Status: resp.StatusCode, Header: resp.Header, Body: string(body)}, nil
}

// nodes reaches the cluster's nodes through Docker.
func (r *Runner) nodes() *node.Nodes {
	return &node.Nodes{Docker: r.Docker, Known: r.Cluster.NodeNames}
}

// NodeProcess finds a container's main process on its node.
func (p *prober) NodeProcess(ctx context.Context, nodeName, containerID string) (checks.NodeProcess, error) {
	return p.nodes.Process(ctx, nodeName, containerID)
}

// NodeExec runs a command on a node.
func (p *prober) NodeExec(ctx context.Context, nodeName string, cmd []string) (checks.ExecResult, error) {
	res, err := p.nodes.Exec(ctx, nodeName, cmd)
	return checks.ExecResult{Stdout: res.Stdout, Stderr: res.Stderr, ExitCode: res.ExitCode}, err
}

// DryRun sends a request as a server-side dry run, as the learner or as an
// impersonated ServiceAccount, and returns the API server's refusal (nil
// when it would accept). Nothing is stored.
func (p *prober) DryRun(ctx context.Context, req checks.DryRunRequest) error {
	if p.dyn == nil || p.mapper == nil {
		return errNoCluster
	}
	gvk := req.Object.GroupVersionKind()
	mapping, err := p.mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
	if err != nil {
		return fmt.Errorf("the cluster serves no kind %s %s: %w", gvk.GroupVersion(), gvk.Kind, err)
	}
	dyn := p.dyn
	if req.ServiceAccount != "" {
		if p.cfg == nil {
			return errNoCluster
		}
		ns, name, _ := strings.Cut(req.ServiceAccount, "/")
		cfg := rest.CopyConfig(p.cfg)
		// The API server gives an impersonated ServiceAccount its groups;
		// naming them would need the right to impersonate groups too.
		cfg.Impersonate = rest.ImpersonationConfig{UserName: serviceaccount.MakeUsername(ns, name)}
		if dyn, err = dynamic.NewForConfig(cfg); err != nil {
			return fmt.Errorf("a client acting as ServiceAccount %s: %w", req.ServiceAccount, err)
		}
	}
	var ri dynamic.ResourceInterface = dyn.Resource(mapping.Resource)
	if mapping.Scope.Name() == meta.RESTScopeNameNamespace {
		ns := req.Object.GetNamespace()
		if ns == "" {
			ns = req.Namespace
			req.Object.SetNamespace(ns)
		}
		ri = dyn.Resource(mapping.Resource).Namespace(ns)
	}
	dry := []string{metav1.DryRunAll}
	switch req.Verb {
	case "delete":
		return ri.Delete(ctx, req.Object.GetName(), metav1.DeleteOptions{DryRun: dry})
	case "apply":
		_, err = ri.Apply(ctx, req.Object.GetName(), req.Object, metav1.ApplyOptions{DryRun: dry, FieldManager: "labs-check", Force: true})
	default:
		_, err = ri.Create(ctx, req.Object, metav1.CreateOptions{DryRun: dry, FieldValidation: metav1.FieldValidationStrict})
	}
	return err
}

// Logs reads a container's log through the API server, as `kubectl logs`
// does: at most 1 MiB of it.
func (p *prober) Logs(ctx context.Context, req checks.LogsRequest) (string, error) {
	limit := int64(1 << 20)
	opts := &corev1.PodLogOptions{Container: req.Container, Previous: req.Previous, LimitBytes: &limit}
	if !req.Since.IsZero() {
		t := metav1.NewTime(req.Since)
		opts.SinceTime = &t
	}
	b, err := p.c.CoreV1().Pods(req.Namespace).GetLogs(req.Pod, opts).DoRaw(ctx)
	if err != nil {
		return "", err
	}
	return string(b), nil
}

// serverClock reads the API server's time from the Date of its answer to
// /version (whole seconds): objects and events carry its times, and a
// laptop VM's clock may drift from it. When it does not answer, this
// machine's clock, and say so (checks comparing times may then be off).
func serverClock(cfg *rest.Config, say func(string)) func(context.Context) time.Time {
	return func(ctx context.Context) time.Time {
		t, err := serverTime(ctx, cfg)
		if err != nil {
			say(fmt.Sprintf("the API server's time could not be read (%v): the step's start is this machine's time", err))
			return time.Now()
		}
		return t
	}
}

func serverTime(ctx context.Context, cfg *rest.Config) (time.Time, error) {
	hc, err := rest.HTTPClientFor(cfg)
	if err != nil {
		return time.Time{}, err
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	r, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimSuffix(cfg.Host, "/")+"/version", nil)
	if err != nil {
		return time.Time{}, err
	}
	resp, err := hc.Do(r)
	if err != nil {
		return time.Time{}, err
	}
	defer resp.Body.Close()
	t, err := http.ParseTime(resp.Header.Get("Date"))
	if err != nil {
		return time.Time{}, fmt.Errorf("its answer's Date %q: %w", resp.Header.Get("Date"), err)
	}
	return t, nil
}
