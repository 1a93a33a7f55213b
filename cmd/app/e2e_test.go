//go:build e2e

package app

import (
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/registry"
	"github.com/rogpeppe/go-internal/testscript"
)

// TestIntegrationScripts runs the cluster acceptance scripts one after the
// other (each creates and deletes its own kind cluster; two at once would
// starve a 2-core machine). It needs Docker and KIND_NODE_IMAGE.
func TestIntegrationScripts(t *testing.T) {
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
	sort.Strings(files)
	repo, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		f := f
		t.Run(filepath.Base(f), func(t *testing.T) {
			testscript.Run(t, testscript.Params{
				Files: []string{f},
				Cmds:  map[string]func(ts *testscript.TestScript, neg bool, args []string){"registry": cmdRegistry},
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
					// Always delete the script's cluster, even when it failed.
					env.Defer(func() { deleteCluster(t, "labs-e2e") })
					// 07-watch's terminal, should it stop half-way.
					env.Defer(func() { _ = exec.Command("tmux", "-L", "labs-e2e-watch", "kill-server").Run() })
					env.Setenv("LABS_CLUSTER_NAME", "labs-e2e")
					return nil
				},
			})
		})
	}
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
