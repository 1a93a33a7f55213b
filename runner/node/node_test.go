package node

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/labs-dev/labs/runner/docker"
)

// The answers of findScript: testdata/find-v1-systemd.txt was printed by a
// worker of this project's CI machine (cgroup v1, systemd driver);
// find-v2-systemd.txt is what a kind node on a cgroup v2 host (Docker
// Desktop) prints: one unified line, cgroup2fs.
func TestParseFind(t *testing.T) {
	for _, tc := range []struct {
		file, controller, wantDir string
		version, pid              int
	}{
		{"find-v1-systemd.txt", "cpu", "/sys/fs/cgroup/cpu/kubelet.slice/kubelet-kubepods.slice/kubelet-kubepods-besteffort.slice/", 1, 408},
		{"find-v1-systemd.txt", "memory", "/sys/fs/cgroup/memory/kubelet.slice/", 1, 408},
		{"find-v2-systemd.txt", "memory", "/sys/fs/cgroup/kubelet.slice/kubelet-kubepods.slice/kubelet-kubepods-burstable.slice/", 2, 2417},
		{"find-v2-systemd.txt", "cpu", "/sys/fs/cgroup/kubelet.slice/", 2, 2417},
	} {
		b, err := os.ReadFile("testdata/" + tc.file)
		if err != nil {
			t.Fatal(err)
		}
		p, err := parseFind(string(b))
		if err != nil {
			t.Fatalf("%s: %v", tc.file, err)
		}
		if p.PID != tc.pid || p.CgroupVersion != tc.version || !strings.HasPrefix(p.Dir(tc.controller), tc.wantDir) || !strings.HasSuffix(p.Dir(tc.controller), ".scope") {
			t.Errorf("%s: pid %d, v%d, %s dir %q; want pid %d, v%d, under %q", tc.file, p.PID, p.CgroupVersion, tc.controller, p.Dir(tc.controller), tc.pid, tc.version, tc.wantDir)
		}
	}
}

func TestParseFindRefusesWhatItDoesNotKnow(t *testing.T) {
	for _, tc := range []struct{ out, want string }{
		{"ext4\npid 1\n0::/x", "a layout labs does not know"},
		{"tmpfs\npid 1\n0::/kubepods/x", "no cpu or memory controller"},
		{"cgroup2fs\npid 1\n4:memory:/kubepods/x", "no cgroup v2 path"},
		{"cgroup2fs\npid x\n0::/x", "unexpected answer"},
		{"cgroup2fs\n", "unexpected answer"},
	} {
		if _, err := parseFind(tc.out); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("parseFind(%q) = %v, want %q", tc.out, err, tc.want)
		}
	}
}

type fakeExec struct {
	res    docker.ExecResult
	err    error
	asks   []string
	limits map[string]int64
}

func (f *fakeExec) MemoryLimit(_ context.Context, c string) (int64, error) { return f.limits[c], nil }
func (f *fakeExec) SetMemoryLimit(_ context.Context, c string, b int64) error {
	f.asks = append(f.asks, fmt.Sprintf("memory %s %d", c, b))
	f.limits[c] = b
	return nil
}
func (f *fakeExec) Facts(context.Context) (docker.Facts, error) {
	return docker.Facts{MemoryBytes: 24 << 30}, nil
}

func (f *fakeExec) Exec(_ context.Context, c string, cmd []string) (docker.ExecResult, error) {
	f.asks = append(f.asks, c)
	return f.res, f.err
}

func (f *fakeExec) ExecInteractive(_ context.Context, c string, cmd []string, _ docker.Stdio) (int, error) {
	f.asks = append(f.asks, c)
	return f.res.ExitCode, f.err
}

func TestProcessErrorsAreOneSentence(t *testing.T) {
	id := "containerd://04ca2d05e1fc98740a9ff6f6b073bbbbb94062e51f857627caed83c21628f426"
	known := func() []string { return []string{"labs-control-plane", "labs-worker"} }

	f := &fakeExec{}
	n := &Nodes{Docker: f, Known: known}
	if _, err := n.Process(context.Background(), "my-database", id); !errors.Is(err, ErrNoNode) || !strings.Contains(err.Error(), "labs-control-plane, labs-worker") || len(f.asks) > 0 {
		t.Errorf("unknown node: %v (asked Docker %v)", err, f.asks)
	}
	if _, err := n.Process(context.Background(), "labs-worker", "containerd://$(reboot)"); err == nil || len(f.asks) > 0 {
		t.Errorf("a container ID that is not hex: %v", err)
	}
	f.res = docker.ExecResult{ExitCode: 3}
	if _, err := n.Process(context.Background(), "labs-worker", id); err == nil || !strings.Contains(err.Error(), "no process of container 04ca2d05e1fc runs on node labs-worker") {
		t.Errorf("gone container: %v", err)
	}
}

// A node's memory limit is set only on a node of the cluster, never so low
// that the node itself dies; lifting touches only a node that has one.
func TestNodeMemoryLimit(t *testing.T) {
	f := &fakeExec{limits: map[string]int64{}}
	n := &Nodes{Docker: f, Known: func() []string { return []string{"labs-worker", "labs-worker2"} }}
	ctx := context.Background()
	if err := n.LimitMemory(ctx, "labs-worker2", 256<<20); err == nil || !strings.Contains(err.Error(), "at least 768 MiB") {
		t.Errorf("256 MiB: %v", err)
	}
	if err := n.LimitMemory(ctx, "postgres", 2<<30); !errors.Is(err, ErrNoNode) {
		t.Errorf("not a node: %v", err)
	}
	if lifted, err := n.LiftMemory(ctx, "labs-worker"); err != nil || lifted || len(f.asks) != 0 {
		t.Errorf("lifting a node without a limit: lifted=%v err=%v asks=%v", lifted, err, f.asks)
	}
	if err := n.LimitMemory(ctx, "labs-worker2", 1536<<20); err != nil || f.limits["labs-worker2"] != 1536<<20 {
		t.Fatalf("limit: %v, %v", err, f.limits)
	}
	if lifted, err := n.LiftMemory(ctx, "labs-worker2"); err != nil || !lifted || f.limits["labs-worker2"] != 24<<30 {
		t.Errorf("lift: lifted=%v err=%v limits=%v", lifted, err, f.limits)
	}
	if _, ok := f.limits["labs-worker"]; ok {
		t.Errorf("the other node was touched: %v", f.limits)
	}
}
