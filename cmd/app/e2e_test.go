//go:build e2e

package app

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/google/go-containerregistry/pkg/registry"
	"github.com/rogpeppe/go-internal/testscript"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
)

// TestIntegrationScripts runs the cluster acceptance scripts on real kind
// clusters, in lanes that run at once (E2E_LANES, 3 by default; 1: one
// after another), each on clusters of its own name: labs-e2e, labs-e2e2,
// ... (the harness writes the name into its copy of a script:
// laneScript). plan spreads the scripts over the lanes by the seconds each
// took in CI; in a lane the scripts marked "# e2e: shared cluster" run
// first, one after another on one cluster reset between them
// (resetCluster), then the others, each on a fresh cluster; then each
// "# e2e: alone" script runs by itself. The scripts mostly wait on
// Kubernetes, so the lanes overlap their waits. Every
// cluster is deleted at the end. It needs Docker and KIND_NODE_IMAGE.
func TestIntegrationScripts(t *testing.T) {
	browsers := &pages{byScript: map[*testscript.TestScript]context.Context{}}
	if testing.Short() {
		t.Skip("cluster tests skipped under -short")
	}
	if os.Getenv("KIND_NODE_IMAGE") == "" && os.Getenv("LABS_NODE_IMAGE") == "" {
		t.Fatal("set KIND_NODE_IMAGE (eval \"$(../shared/kind-offline/up | tail -1)\") to run the cluster suite")
	}
	files, err := filepath.Glob("testdata/e2e/*.txtar")
	if err != nil {
		t.Fatal(err)
	}
	repo, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	lanes := 3
	if v := os.Getenv("E2E_LANES"); v != "" {
		if lanes, err = strconv.Atoi(v); err != nil || lanes < 1 {
			t.Fatalf("E2E_LANES=%q: want a number of lanes, 1 or more", v)
		}
	}
	// More than two clusters at once exhaust the kernel's default inotify
	// instances: kube-proxy fails with "too many open files".
	if raw, err := os.ReadFile("/proc/sys/fs/inotify/max_user_instances"); err == nil && lanes > 2 {
		if n, _ := strconv.Atoi(strings.TrimSpace(string(raw))); n < 512 {
			t.Fatalf("fs.inotify.max_user_instances is %d: %d clusters at once need 512 (pods fail with \"too many open files\"); `sysctl -w fs.inotify.max_user_instances=512` (.ci/run does), or E2E_LANES=2", n, lanes)
		}
	}
	srcs := map[string][]byte{}
	for _, f := range files {
		if srcs[f], err = os.ReadFile(f); err != nil {
			t.Fatal(err)
		}
	}
	use := func(f string) int { return clusterUse(string(srcs[f])) }
	order, last := plan(files, use, lanes)
	names := make([]string, len(order))
	for i := range order {
		names[i] = laneCluster(i + 1)
	}
	claimSuite(t, names...)
	scripts := t.TempDir()
	// runLane runs a lane's scripts one after another as subtests (t.Run
	// may be called from several goroutines at once) on its cluster. A
	// shared script gets the cluster the shared script before it passed
	// on, reset; any other a fresh one. A script's own cluster is deleted
	// after it, the shared one after the chain or when a script on it
	// failed (the next one starts afresh).
	runLane := func(name string, lane []string) {
		shared := false // the cluster is there for the next shared script
		for _, f := range lane {
			isShared := use(f) == sharedCluster
			if isShared && shared {
				resetCluster(t, name)
			}
			if !isShared && shared {
				deleteCluster(t, name)
			}
			ok := t.Run(filepath.Base(f), func(t *testing.T) { runScript(t, f, srcs[f], name, repo, scripts, browsers) })
			shared = isShared && ok
			if !shared {
				deleteCluster(t, name)
			}
		}
		if shared {
			deleteCluster(t, name)
		}
	}
	var wg sync.WaitGroup
	for i, lane := range order {
		wg.Add(1)
		go func() {
			defer wg.Done()
			runLane(names[i], lane)
		}()
	}
	wg.Wait()
	for _, f := range last {
		runLane(laneCluster(1), []string{f})
	}
}

// runScript runs one script on lane's cluster.
func runScript(t *testing.T, f string, src []byte, clusterName, repo, scripts string, browsers *pages) {
	t.Logf("on cluster %s", clusterName)
	script := filepath.Join(scripts, filepath.Base(f))
	if err := os.WriteFile(script, []byte(laneScript(string(src), clusterName)), 0o644); err != nil {
		t.Fatal(err)
	}
	testscript.RunT(serialT{t}, testscript.Params{
		Files:     []string{script},
		Condition: netpolCondition,
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"registry": cmdRegistry, "claimstep": cmdClaimStep,
			"browse": browsers.open, "pagewait": browsers.wait, "screenshot": browsers.screenshot,
		},
		Setup: func(env *testscript.Env) error {
			for _, k := range []string{"KIND_NODE_IMAGE", "LABS_NODE_IMAGE", "DOCKER_HOST"} {
				if v := os.Getenv(k); v != "" {
					env.Setenv(k, v)
				}
			}
			env.Setenv("HOME", env.WorkDir+"/home")
			env.Setenv("XDG_CONFIG_HOME", env.WorkDir+"/config")
			env.Setenv("XDG_STATE_HOME", env.WorkDir+"/state")
			env.Setenv("NO_COLOR", "1")
			env.Setenv("REPO", repo) // examples/ and labs/ of this tree
			// LABS_BINARY: the scripts run that build of labs (a
			// release binary) instead of this test binary.
			if bin := os.Getenv("LABS_BINARY"); bin != "" {
				if err := useBinary(env, bin); err != nil {
					return err
				}
			}
			// 09-bundle's copy of the node image.
			if strings.Contains(string(src), "labs-e2e/node:bundle") {
				env.Defer(dropBundleImage)
			}
			// 07-watch's terminals (one tmux server each, so a new one
			// never races the last one's exit), should it stop half-way;
			// only its own script: another lane's may be using them.
			if strings.Contains(string(src), "labs-e2e-watch") {
				env.Defer(func() {
					for _, sock := range []string{"labs-e2e-watch1", "labs-e2e-watch2", "labs-e2e-watch3"} {
						_ = exec.Command("tmux", "-L", sock, "kill-server").Run()
					}
				})
			}
			env.Setenv("LABS_CLUSTER_NAME", clusterName)
			return nil
		},
	})
}

// serialT runs a script inside the caller's test, not as a parallel
// subtest of its own, so the lane is held while the script runs.
type serialT struct{ *testing.T }

func (serialT) Parallel()     {}
func (serialT) Verbose() bool { return testing.Verbose() }
func (t serialT) Run(name string, f func(testscript.T)) {
	t.T.Run(name, func(t *testing.T) { f(serialT{t}) })
}

// dropBundleImage deletes 09-bundle's copy of the node image, should the
// script stop before it does.
func dropBundleImage() {
	_ = exec.Command("docker", "rmi", "labs-e2e/node:bundle").Run()
}

// useBinary puts bin first on the script's PATH as labs, and as kubectl
// (which labs is when called so).
func useBinary(env *testscript.Env, bin string) error {
	bin, err := filepath.Abs(bin)
	if err != nil {
		return err
	}
	if _, err := os.Stat(bin); err != nil {
		return fmt.Errorf("LABS_BINARY: %w", err)
	}
	dir := filepath.Join(env.WorkDir, ".labs-binary")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for _, name := range []string{"labs", "kubectl"} {
		if err := os.Symlink(bin, filepath.Join(dir, name)); err != nil {
			return err
		}
	}
	env.Setenv("PATH", dir+string(os.PathListSeparator)+env.Getenv("PATH"))
	return nil
}

// cmdRegistry is `registry VAR`: an OCI registry (go-containerregistry's,
// in memory) for the rest of the script, listening on the kind network's
// gateway, the address by which the node containers reach this machine
// (and only they); VAR is set to its host:port.
func cmdRegistry(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: registry VAR")
	}
	out, err := exec.Command("docker", "network", "inspect", "kind", "-f", "{{range .IPAM.Config}}{{.Gateway}} {{end}}").Output()
	if err != nil {
		ts.Fatalf("finding the kind network's gateway: %v", err)
	}
	var gw string
	for _, a := range strings.Fields(string(out)) {
		if ip := net.ParseIP(a); ip != nil && ip.To4() != nil {
			gw = a
		}
	}
	if gw == "" {
		ts.Fatalf("the kind network has no IPv4 gateway: %q", out)
	}
	ln, err := net.Listen("tcp", net.JoinHostPort(gw, "0"))
	if err != nil {
		ts.Fatalf("listening on %s: %v", gw, err)
	}
	srv := &http.Server{Handler: registry.New(registry.Logger(log.New(io.Discard, "", 0)))}
	go func() { _ = srv.Serve(ln) }()
	ts.Defer(func() { _ = srv.Close() })
	ts.Setenv(args[0], ln.Addr().String())
}

// cmdClaimStep is `claimstep KUBECONFIG LAB STEP`: a learner edits their
// progress ConfigMap by hand to claim STEP (1-based) of LAB with every
// step before it done, as a learner who wants to look ahead might.
func cmdClaimStep(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 3 {
		ts.Fatalf("usage: claimstep KUBECONFIG LAB STEP")
	}
	step, err := strconv.Atoi(args[2])
	ts.Check(err)
	cfg, err := clientcmd.BuildConfigFromFlags("", ts.MkAbs(args[0]))
	ts.Check(err)
	raw, err := clientcmd.LoadFromFile(ts.MkAbs(args[0]))
	ts.Check(err)
	ns := raw.Contexts[raw.CurrentContext].Namespace
	c, err := kubernetes.NewForConfig(cfg)
	ts.Check(err)
	ctx := context.Background()
	cm, err := c.CoreV1().ConfigMaps(ns).Get(ctx, "labs-progress", metav1.GetOptions{})
	ts.Check(err)
	var p map[string]any
	ts.Check(json.Unmarshal([]byte(cm.Data[args[1]+".json"]), &p))
	done, _ := p["done"].([]any)
	for i := range done {
		done[i] = i < step-1
	}
	p["step"], p["done"], p["passed"] = step-1, done, nil
	b, err := json.Marshal(p)
	ts.Check(err)
	cm.Data[args[1]+".json"] = string(b)
	_, err = c.CoreV1().ConfigMaps(ns).Update(ctx, cm, metav1.UpdateOptions{})
	ts.Check(err)
}

// pages are the scripts' browsers: Debian's chromium, headless.
type pages struct {
	mu       sync.Mutex
	byScript map[*testscript.TestScript]context.Context
}

// open is `browse URL` (or `browse @FILE`, the URL in FILE): a headless
// chromium for the rest of the script, on URL.
func (p *pages) open(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: browse URL")
	}
	chrome, err := exec.LookPath("chromium")
	if err != nil {
		ts.Fatalf("browse needs Debian's chromium (apt-get install chromium): %v", err)
	}
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chrome), chromedp.NoSandbox, chromedp.IgnoreCertErrors, chromedp.WindowSize(1280, 800))...)
	ctx, cancel := chromedp.NewContext(actx)
	ts.Defer(func() { cancel(); cancelA() })
	url := args[0]
	if file, ok := strings.CutPrefix(url, "@"); ok { // a URL a command wrote
		b, err := os.ReadFile(ts.MkAbs(file))
		ts.Check(err)
		url = strings.TrimSpace(string(b))
	}
	// The first action starts the browser and ties it to its context: the
	// script's, not a shorter one.
	ts.Check(chromedp.Do(ctx, chromedp.Navigate(url)))
	p.mu.Lock()
	p.byScript[ts] = ctx
	p.mu.Unlock()
}

func (p *pages) page(ts *testscript.TestScript) context.Context {
	p.mu.Lock()
	defer p.mu.Unlock()
	ctx, ok := p.byScript[ts]
	if !ok {
		ts.Fatalf("no page: browse URL first")
	}
	return ctx
}

// wait is `pagewait WITHIN JS`: JS (an expression) becomes true in the
// page within WITHIN (a duration); how long it took is logged.
func (p *pages) wait(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: pagewait WITHIN JS")
	}
	within, err := time.ParseDuration(args[0])
	ts.Check(err)
	ctx, cancel := context.WithTimeout(p.page(ts), within)
	defer cancel()
	start := time.Now()
	for {
		ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](args[1]))
		if err == nil && ok {
			ts.Logf("page: true after %s", time.Since(start).Round(time.Millisecond))
			return
		}
		if ctx.Err() != nil {
			html, _ := chromedp.Run(p.page(ts), chromedp.Evaluate[string](`document.getElementById("rows") ? document.getElementById("rows").innerText : document.body.innerText`))
			ts.Fatalf("page: %s still not true after %s (%v); the page shows:\n%s", args[1], within, err, html)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// screenshot is `screenshot FILE W H`, into $LABS_ARTIFACTS (default
// bin/artifacts of the tree).
func (p *pages) screenshot(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 3 {
		ts.Fatalf("usage: screenshot FILE W H")
	}
	w, err := strconv.ParseInt(args[1], 10, 64)
	ts.Check(err)
	h, err := strconv.ParseInt(args[2], 10, 64)
	ts.Check(err)
	ctx := p.page(ts)
	ts.Check(chromedp.Do(ctx, chromedp.EmulateViewport(w, h), chromedp.Sleep(300*time.Millisecond)))
	png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	ts.Check(err)
	dir := os.Getenv("LABS_ARTIFACTS")
	if dir == "" {
		dir = filepath.Join(ts.Getenv("REPO"), "bin", "artifacts")
	}
	ts.Check(os.MkdirAll(dir, 0o755))
	file := filepath.Join(dir, args[0])
	ts.Check(os.WriteFile(file, png, 0o644))
	ts.Logf("screenshot %s (%dx%d, %d KiB)", file, w, h, len(png)>>10)
}

// netpolCondition is [netpol]: the lab cluster's network plugin enforces
// NetworkPolicies. The node image of shared/kind-offline runs kindnet-lite
// (image kind-offline/kindnetd), which routes only (its README says so);
// kind's own kindnet enforces them.
func netpolCondition(cond string) (bool, error) {
	if cond != "netpol" {
		return false, fmt.Errorf("unknown condition %q", cond)
	}
	// Every lane's cluster runs the same node image: ask any control plane.
	ids, err := exec.Command("docker", "ps", "-q", "--filter", "label=io.x-k8s.kind.role=control-plane").Output()
	if err != nil || len(strings.Fields(string(ids))) == 0 {
		return false, fmt.Errorf("finding a running kind control plane: %v", err)
	}
	out, err := exec.Command("docker", "exec", strings.Fields(string(ids))[0], "crictl", "images").Output()
	if err != nil {
		return false, fmt.Errorf("asking the node for its images: %w", err)
	}
	s := string(out)
	return !strings.Contains(s, "kind-offline/kindnetd") && !strings.Contains(s, "kindnet-lite"), nil
}
