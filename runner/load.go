package runner

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/cache"
	watchtools "k8s.io/client-go/tools/watch"

	"github.com/labs-dev/labs/assets/labapp/loadreport"
	"github.com/labs-dev/labs/checks"
	"github.com/labs-dev/labs/runner/node"
)

// MaxLoadDuration is the hard ceiling on a load run.
const MaxLoadDuration = 10 * time.Minute

// LoadOptions are `labs load`'s.
type LoadOptions struct {
	Target      string
	Duration    time.Duration
	Requests    int64
	Concurrency int
	Rate        float64
	JSON        bool
	// Live draws a panel (rps, p50/p95/p99, errors by reason, in flight,
	// sparklines of the last minute) instead of one line.
	Live bool
}

// Validate checks the options without I/O.
func (o LoadOptions) Validate() error {
	switch {
	case o.Target == "":
		return errors.New("usage: labs load TARGET (a Service name, svc/NAME[:PORT], NAME:PORT, or http://URL)")
	case o.Duration < 0 || o.Requests < 0:
		return errors.New("--duration and --requests must not be negative")
	case o.Duration > MaxLoadDuration:
		return fmt.Errorf("--duration %s is over the %s ceiling", o.Duration, MaxLoadDuration)
	case o.Concurrency < 1 || o.Concurrency > 256:
		return fmt.Errorf("--concurrency must be 1 to 256, got %d", o.Concurrency)
	case math.IsNaN(o.Rate) || math.IsInf(o.Rate, 0) || o.Rate < 0 || o.Rate > checks.MaxRate:
		return fmt.Errorf("--rate must be between 0 (as fast as possible) and %d requests per second, got %g", checks.MaxRate, o.Rate)
	}
	return nil
}

// LoadResult is the summary `labs load` prints.
type LoadResult = loadreport.Summary

// Load runs the load generator in the cluster, as a pod in the current lab's
// namespace, so the target is reached the way users reach it.
func (r *Runner) Load(ctx context.Context, o LoadOptions) error {
	if err := o.Validate(); err != nil {
		return err
	}
	if o.Duration == 0 && o.Requests == 0 {
		o.Duration = 30 * time.Second
	}
	ns := "default"
	if s, err := r.current(ctx); err == nil {
		ns = r.ns(s.lab)
	}
	c, err := r.client()
	if err != nil {
		return err
	}
	if err := r.reachable(ctx, c, 10*time.Second); err != nil {
		return err
	}
	if err := r.settle(ctx, c); err != nil {
		return err
	}
	stream, err := r.streamClient()
	if err != nil {
		return err
	}
	target, err := resolveTarget(ctx, c, ns, o.Target)
	if err != nil {
		return err
	}
	r.Display.Status(fmt.Sprintf("sending load to %s from a pod in namespace %s (concurrency %d, %s)", target, ns, o.Concurrency, describeBound(o)))
	lp, err := startLoadPod(ctx, c, stream, ns, target, r.target().Images().Image("v1"), o)
	if errors.Is(err, ErrWorkloadImageMissing) {
		// Removed from the nodes behind labs' back: the next `labs start`
		// must load the images again, whatever its record says.
		_ = r.forgetNodeImages()
	}
	if err != nil {
		return err
	}
	// Ctrl-C: stop the pod gracefully and still report what was measured.
	stopOnCancel := context.AfterFunc(ctx, lp.stop)
	defer stopOnCancel()
	panel := &loadPanel{w: r.ErrOut, interactive: r.Display.Interactive(), target: target}
	res, err := lp.follow(context.WithoutCancel(ctx), lp.bound, func(p loadreport.Progress) {
		if o.Live {
			panel.update(p)
			return
		}
		r.Display.Live(fmt.Sprintf("%6.1fs  %7.1f rps  errors %d  p50 %.1fms  p95 %.1fms  in-flight %d", p.ElapsedSeconds, p.RPS, p.Failed, p.P50, p.P95, p.InFlight))
	})
	lp.cleanup()
	r.Display.EndLive()
	if err != nil {
		return err
	}
	if o.JSON {
		err = WriteJSON(r.Out, res)
	} else {
		printLoadSummary(r, res)
	}
	if err == nil && ctx.Err() != nil {
		return ctx.Err() // stopped early: the summary is partial, say so by the exit code
	}
	return err
}

func describeBound(o LoadOptions) string {
	var parts []string
	if o.Duration > 0 {
		parts = append(parts, "for "+o.Duration.String())
	}
	if o.Requests > 0 {
		parts = append(parts, fmt.Sprintf("up to %d requests", o.Requests))
	}
	if o.Rate > 0 {
		parts = append(parts, fmt.Sprintf("at %g req/s", o.Rate))
	}
	return strings.Join(parts, ", ")
}

func printLoadSummary(r *Runner, s *LoadResult) {
	var reasons []string
	for k, n := range s.FailureReasons {
		reasons = append(reasons, fmt.Sprintf("%s: %d", k, n))
	}
	sort.Strings(reasons)
	if len(reasons) == 0 {
		reasons = []string{"none"}
	}
	avail := fmt.Sprintf("%.2f %%", s.AvailabilityPercent)
	if s.Failed > 0 {
		avail = r.Style.Red(avail)
	} else {
		avail = r.Style.Green(avail)
	}
	fmt.Fprintf(r.Out, `Transactions:            %d hits
Availability:            %s
Elapsed time:            %.2f secs
Successful transactions: %d
Failed transactions:     %d
Transaction rate:        %.2f trans/sec
Concurrency:             %d
Response time (ms):      p50 %.2f   p95 %.2f   p99 %.2f   max %.2f
Failure reasons:         %s
`, s.Transactions, avail, s.ElapsedSeconds, s.Successful, s.Failed, s.RequestsPerSecond, s.Concurrency,
		s.Latency.P50, s.Latency.P95, s.Latency.P99, s.Latency.Max, strings.Join(reasons, ", "))
}

// resolveTarget turns TARGET into a URL the load pod can reach, refusing
// before anything starts what does not resolve to a Service (or an IP).
func resolveTarget(ctx context.Context, c kubernetes.Interface, ns, target string) (string, error) {
	if strings.Contains(target, "://") {
		u, err := url.Parse(target)
		if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
			return "", fmt.Errorf("target %q is not an http(s) URL", target)
		}
		if net.ParseIP(u.Hostname()) != nil {
			if err := ipInCluster(ctx, c, ns, u.Hostname(), target); err != nil {
				return "", err
			}
			return target, nil
		}
		svcNS, name, err := serviceOfHost(u.Hostname(), ns)
		if err != nil {
			return "", fmt.Errorf("target %q: %w", target, err)
		}
		if _, err := lookupService(ctx, c, svcNS, name, target); err != nil {
			return "", err
		}
		return target, nil
	}
	name := strings.TrimPrefix(strings.TrimPrefix(target, "svc/"), "service/")
	port := ""
	if h, p, err := net.SplitHostPort(name); err == nil {
		name, port = h, p
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return "", fmt.Errorf("target %q: %q is not a port", target, p)
		}
	}
	if net.ParseIP(name) != nil {
		if port == "" {
			return "", fmt.Errorf("target %q: an IP needs a port (IP:PORT)", target)
		}
		if err := ipInCluster(ctx, c, ns, name, target); err != nil {
			return "", err
		}
		return "http://" + net.JoinHostPort(name, port) + "/", nil
	}
	svcNS, svcName, err := serviceOfHost(name, ns)
	if err != nil {
		return "", fmt.Errorf("target %q: %w", target, err)
	}
	svc, err := lookupService(ctx, c, svcNS, svcName, target)
	if err != nil {
		return "", err
	}
	if port == "" {
		if len(svc.Spec.Ports) == 0 {
			return "", fmt.Errorf("service %s has no ports", svcName)
		}
		port = strconv.Itoa(int(svc.Spec.Ports[0].Port))
	}
	return fmt.Sprintf("http://%s.%s.svc.cluster.local:%s/", svcName, svcNS, port), nil
}

// ipInCluster accepts an IP only if it is a Service's ClusterIP or a pod's
// IP in ns: load goes to the lab's own workloads, never elsewhere (and a
// learner on a class cluster may list only their own namespace).
func ipInCluster(ctx context.Context, c kubernetes.Interface, ns, ip, target string) error {
	svcs, err := c.CoreV1().Services(ns).List(ctx, metav1.ListOptions{})
	if err != nil {
		return fmt.Errorf("listing Services: %w", err)
	}
	for _, s := range svcs.Items {
		for _, cip := range s.Spec.ClusterIPs {
			if cip == ip {
				return nil
			}
		}
	}
	pods, err := c.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{})
	if err != nil {
		return fmt.Errorf("listing pods: %w", err)
	}
	for _, p := range pods.Items {
		for _, pip := range p.Status.PodIPs {
			if pip.IP == ip {
				return nil
			}
		}
	}
	return fmt.Errorf("target %q does not resolve: %s is neither a Service's ClusterIP nor a pod IP in namespace %s", target, ip, ns)
}

// serviceOfHost reads a Service's DNS name: NAME, NAME.NS, NAME.NS.svc or
// NAME.NS.svc.cluster.local. Any other name is refused: load goes to the
// cluster's own Services, never to a host that merely starts like one.
func serviceOfHost(host, ns string) (svcNS, name string, err error) {
	parts := strings.Split(strings.TrimSuffix(host, "."), ".")
	switch {
	case len(parts) == 1:
		return ns, parts[0], nil
	case len(parts) == 2,
		len(parts) == 3 && parts[2] == "svc",
		len(parts) == 5 && parts[2] == "svc" && parts[3] == "cluster" && parts[4] == "local":
		return parts[1], parts[0], nil
	}
	return "", "", fmt.Errorf("%q is not a Service name: use SVC, SVC.NAMESPACE or SVC.NAMESPACE.svc.cluster.local", host)
}

func lookupService(ctx context.Context, c kubernetes.Interface, ns, name, target string) (*corev1.Service, error) {
	svc, err := c.CoreV1().Services(ns).Get(ctx, name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		var names []string
		if list, lerr := c.CoreV1().Services(ns).List(ctx, metav1.ListOptions{}); lerr == nil {
			for _, s := range list.Items {
				names = append(names, s.Name)
			}
		}
		have := "none"
		if len(names) > 0 {
			have = strings.Join(names, ", ")
		}
		return nil, fmt.Errorf("target %q does not resolve: no Service %s in namespace %s (Services there: %s)", target, name, ns, have)
	}
	if err != nil {
		return nil, fmt.Errorf("looking up Service %s/%s: %w", ns, name, err)
	}
	return svc, nil
}

// loadPod is one run of `labapp load` in the cluster.
type loadPod struct {
	c kubernetes.Interface
	// stream reads the followed log, which lasts as long as the load.
	stream kubernetes.Interface
	ns     string
	name   string
	// bound is the longest the load can run.
	bound time.Duration
}

func startLoadPod(ctx context.Context, c, stream kubernetes.Interface, ns, target, image string, o LoadOptions) (*loadPod, error) {
	args := []string{"load", "--json", "--concurrency", strconv.Itoa(o.Concurrency)}
	bound := MaxLoadDuration
	if o.Duration > 0 {
		args = append(args, "--duration", o.Duration.String())
		bound = o.Duration
	} else {
		args = append(args, "--duration", MaxLoadDuration.String())
	}
	if o.Requests > 0 {
		args = append(args, "--requests", strconv.FormatInt(o.Requests, 10))
	}
	if o.Rate > 0 {
		args = append(args, "--rate", strconv.FormatFloat(o.Rate, 'f', -1, 64))
	}
	args = append(args, target)
	deadline := int64((bound + time.Minute).Seconds())
	grace := int64(10)
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{
			GenerateName: "labs-load-",
			Namespace:    ns,
			Labels:       map[string]string{"app.kubernetes.io/name": "labs-load", "app.kubernetes.io/managed-by": "labs"},
		},
		Spec: corev1.PodSpec{
			RestartPolicy:                 corev1.RestartPolicyNever,
			ActiveDeadlineSeconds:         &deadline, // a forgotten pod stops by itself
			TerminationGracePeriodSeconds: &grace,
			Containers: []corev1.Container{{
				Name:            "load",
				Image:           image,
				ImagePullPolicy: corev1.PullIfNotPresent,
				Args:            args,
				Resources: corev1.ResourceRequirements{
					Requests: corev1.ResourceList{
						corev1.ResourceCPU:    resource.MustParse("100m"),
						corev1.ResourceMemory: resource.MustParse("32Mi"),
					},
					// A class namespace's quota counts memory limits.
					Limits: corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("128Mi")},
				},
				// Pod Security restricted, as a class namespace may enforce:
				// the load generator needs no privilege.
				SecurityContext: &corev1.SecurityContext{
					RunAsNonRoot:             ptr(true),
					RunAsUser:                ptr(int64(65534)),
					AllowPrivilegeEscalation: ptr(false),
					Capabilities:             &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}},
					SeccompProfile:           &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault},
				},
			}},
		},
	}
	created, err := c.CoreV1().Pods(ns).Create(ctx, pod, metav1.CreateOptions{})
	if err != nil {
		return nil, fmt.Errorf("creating the load pod in %s: %w", ns, err)
	}
	lp := &loadPod{c: c, stream: stream, ns: ns, name: created.Name, bound: bound}
	if err := lp.waitStarted(ctx, time.Minute); err != nil {
		lp.cleanup()
		return nil, err
	}
	return lp, nil
}

// ErrWorkloadImageMissing: a pod of labs' own cannot get the workload image.
var ErrWorkloadImageMissing = errors.New("the workload image is missing")

// imageMissing is an error that says so in its own words and is
// ErrWorkloadImageMissing.
type imageMissing struct{ error }

func (imageMissing) Is(target error) bool { return target == ErrWorkloadImageMissing }

// waitStarted watches the pod until its container runs (or already ran),
// failing fast with the reason when it cannot start.
func (lp *loadPod) waitStarted(ctx context.Context, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	sel := fields.OneTermEqualSelector("metadata.name", lp.name).String()
	lw := &cache.ListWatch{
		ListFunc: func(o metav1.ListOptions) (runtime.Object, error) {
			o.FieldSelector = sel
			return lp.c.CoreV1().Pods(lp.ns).List(ctx, o)
		},
		WatchFunc: func(o metav1.ListOptions) (watch.Interface, error) {
			o.FieldSelector = sel
			return lp.c.CoreV1().Pods(lp.ns).Watch(ctx, o)
		},
	}
	var why error
	cond := func(e watch.Event) (bool, error) {
		p, ok := e.Object.(*corev1.Pod)
		if !ok {
			return false, nil
		}
		if p.Status.Phase == corev1.PodRunning || p.Status.Phase == corev1.PodSucceeded || p.Status.Phase == corev1.PodFailed {
			return true, nil
		}
		for _, cs := range p.Status.ContainerStatuses {
			if w := cs.State.Waiting; w != nil {
				switch w.Reason {
				case "ErrImagePull", "ImagePullBackOff", "ErrImageNeverPull", "InvalidImageName", "CreateContainerConfigError", "CreateContainerError":
					why = imageMissing{fmt.Errorf("the load pod cannot start: %s: %s; run `labs start LAB` to load the lab images into the nodes", w.Reason, w.Message)}
					return false, why
				}
			}
		}
		return false, nil
	}
	_, err := watchtools.UntilWithSync(ctx, lw, &corev1.Pod{}, nil, cond)
	if why != nil {
		return why
	}
	if err != nil {
		return fmt.Errorf("the load pod %s did not start within %s: %w", lp.name, timeout, err)
	}
	return nil
}

// follow streams the pod's output: PROGRESS lines to onProgress, and the
// RESULT line as the result. The stream may last as long as the load, so it
// is bounded by the load's own limit (plus the pod's startup and grace),
// not by a client timeout.
func (lp *loadPod) follow(ctx context.Context, bound time.Duration, onProgress func(loadreport.Progress)) (*LoadResult, error) {
	ctx, cancel := context.WithTimeout(ctx, bound+2*time.Minute)
	defer cancel()
	stream, err := lp.stream.CoreV1().Pods(lp.ns).GetLogs(lp.name, &corev1.PodLogOptions{Follow: true}).Stream(ctx)
	if err != nil {
		return nil, fmt.Errorf("reading the load pod's output: %w", err)
	}
	defer stream.Close()
	var res *LoadResult
	var other []string
	sc := bufio.NewScanner(stream)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, loadreport.ProgressPrefix):
			var p loadreport.Progress
			if json.Unmarshal([]byte(strings.TrimPrefix(line, loadreport.ProgressPrefix)), &p) == nil && onProgress != nil {
				onProgress(p)
			}
		case strings.HasPrefix(line, loadreport.ResultPrefix):
			res = &LoadResult{}
			if err := json.Unmarshal([]byte(strings.TrimPrefix(line, loadreport.ResultPrefix)), res); err != nil {
				return nil, fmt.Errorf("load pod result: %w", err)
			}
		default:
			other = append(other, line)
		}
	}
	if res != nil {
		return res, nil
	}
	why := strings.Join(other, " | ")
	if err := sc.Err(); err != nil {
		why = fmt.Sprintf("reading its output failed: %v", err)
		if ctx.Err() != nil {
			why = fmt.Sprintf("its output stopped after %s", bound+2*time.Minute)
		}
	}
	if why == "" {
		why = "it printed nothing (was it deleted?)"
	}
	return nil, fmt.Errorf("the load pod %s ended without a result: %s", lp.name, why)
}

// stop asks labapp to finish: SIGTERM makes it print its result and exit.
func (lp *loadPod) stop() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_ = lp.c.CoreV1().Pods(lp.ns).Delete(ctx, lp.name, metav1.DeleteOptions{})
}

// cleanup removes the pod at once, whatever happened.
func (lp *loadPod) cleanup() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	zero := int64(0)
	_ = lp.c.CoreV1().Pods(lp.ns).Delete(ctx, lp.name, metav1.DeleteOptions{GracePeriodSeconds: &zero})
}

// newEngine is the check engine for namespace ns: its informers (dynamic,
// for any kind) and the load pods' result streams use clients without an
// overall request timeout (a watch or a 4-minute measurement outlives
// 30 s); c makes the short requests.
func (r *Runner) newEngine(c kubernetes.Interface, ns string, env *scriptEnv) (*checks.Engine, error) {
	stream, err := r.streamClient()
	if err != nil {
		return nil, err
	}
	dyn, mapper, err := r.dynamic()
	if err != nil {
		return nil, err
	}
	var cfg *rest.Config
	if r.NewClient == nil {
		if cfg, err = r.restConfig(0); err != nil {
			return nil, err
		}
	}
	eng := &checks.Engine{Dynamic: dyn, Mapper: mapper, Namespace: ns, Prober: &prober{c: c, stream: stream, image: r.target().Images().Image("v1"), cfg: cfg, dyn: dyn, mapper: mapper, ns: ns, env: env, log: r.Display.Status, nodes: r.nodes()}}
	if cfg != nil {
		eng.Clock = serverClock(cfg, r.Display.Status)
	}
	return eng, nil
}

// engineFor is the check engine on the learner's namespace ns, with a
// script environment holding the lab's facts and captured values (for the
// actions of active checks, whose output goes to ErrOut); done releases it.
func (r *Runner) engineFor(c kubernetes.Interface, ns string, captured map[string]string) (eng *checks.Engine, done func(), err error) {
	env, err := r.newScriptEnv(ns, captured)
	if err != nil {
		return nil, nil, err
	}
	env.out = r.ErrOut
	if eng, err = r.newEngine(c, ns, env); err != nil {
		env.Close()
		return nil, nil, err
	}
	return eng, env.Close, nil
}

// prober runs active checks for the engine: load from a pod in ns while a
// lab script performs the action.
type prober struct {
	c      kubernetes.Interface
	stream kubernetes.Interface
	cfg    *rest.Config // exec and HTTP go through it; nil with a fake client
	dyn    dynamic.Interface
	mapper meta.RESTMapper
	ns     string
	env    *scriptEnv
	log    func(string)
	nodes  *node.Nodes
	// image is the workload image the load pod runs.
	image string
}

func (p *prober) Availability(ctx context.Context, req checks.AvailabilityRequest) (checks.LoadStats, error) {
	target, err := resolveTarget(ctx, p.c, p.ns, req.Target)
	if err != nil {
		return checks.LoadStats{}, err
	}
	lp, err := startLoadPod(ctx, p.c, p.stream, p.ns, target, p.image, LoadOptions{Concurrency: req.Concurrency, Rate: req.Rate, Duration: MaxLoadDuration})
	if err != nil {
		return checks.LoadStats{}, err
	}
	defer lp.cleanup()
	type outcome struct {
		res *LoadResult
		err error
	}
	done := make(chan outcome, 1)
	started := make(chan struct{})
	go func() {
		first := true
		res, err := lp.follow(context.WithoutCancel(ctx), lp.bound, func(loadreport.Progress) {
			if first {
				close(started)
				first = false
			}
		})
		done <- outcome{res, err}
	}()
	select {
	case <-started:
	case o := <-done:
		if o.err == nil {
			o.err = errors.New("the load ended before the action started")
		}
		return checks.LoadStats{}, o.err
	case <-ctx.Done():
		return checks.LoadStats{}, ctx.Err()
	}
	p.log(fmt.Sprintf("load is running against %s; running the action", target))
	actx, cancel := context.WithTimeout(ctx, req.Timeout)
	actErr := p.env.run(actx, req.Action, p.env.out, req.Timeout)
	cancel()
	if actErr == nil {
		select {
		case <-time.After(req.Settle):
		case <-ctx.Done():
		}
	}
	lp.stop()
	o := <-done
	if actErr != nil {
		return checks.LoadStats{}, fmt.Errorf("the action failed: %w", actErr)
	}
	if o.err != nil {
		return checks.LoadStats{}, o.err
	}
	return checks.LoadStats{Transactions: o.res.Transactions, Successful: o.res.Successful, Failed: o.res.Failed,
		AvailabilityPercent: o.res.AvailabilityPercent, FailureReasons: o.res.FailureReasons}, nil
}

func ptr[T any](v T) *T { return &v }
