package checks

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
)

// advancing is a node whose CPU counters grow by step[file] at each read.
type advancing struct {
	procsByContainer
	mu    sync.Mutex
	reads map[string]int
	step  map[string]int64
	fixed map[string]string
}

func (a *advancing) NodeExec(ctx context.Context, node string, cmd []string) (ExecResult, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	file := cmd[len(cmd)-1]
	if v, ok := a.fixed[file]; ok {
		return ExecResult{Stdout: v}, nil
	}
	a.reads[file]++
	return ExecResult{Stdout: fmt.Sprint(int64(a.reads[file]) * a.step[file])}, nil
}

func cpuPod(name, cpu, node, id string) *corev1.Pod {
	p := withContainerID(qosPod(name, corev1.PodQOSBurstable, corev1.ResourceList{corev1.ResourceCPU: resource.MustParse(cpu)}, nil), id)
	p.Spec.NodeName = node
	return p
}

// Two busy pods on one node pass when their CPU time has the ratio of
// their weights (819 / 204 here), and fail otherwise, saying both.
func TestCPUShareCheck(t *testing.T) {
	spec := mustSpec(t, "{type: cpu-share, pods: [light, heavy], window: 1s, tolerance: 0.25}")
	procs := map[string]NodeProcess{
		"containerd://l": {PID: 1, CgroupVersion: 1, Cgroups: map[string]string{"cpuacct": "/sys/fs/cgroup/cpuacct/l", "cpu": "/sys/fs/cgroup/cpu/l"}},
		"containerd://h": {PID: 2, CgroupVersion: 1, Cgroups: map[string]string{"cpuacct": "/sys/fs/cgroup/cpuacct/h", "cpu": "/sys/fs/cgroup/cpu/h"}},
	}
	for _, tc := range []struct {
		name         string
		light, heavy int64 // ns of CPU per read
		nodes        [2]string
		pass         bool
		says         string
		heavyShares  string
	}{
		{"by weight", 1e9, 4e9, [2]string{"w1", "w1"}, true, "ratio 4.00; their weights give 4.01 (819 / 204)", ""},
		{"equal", 2e9, 2e9, [2]string{"w1", "w1"}, false, "ratio 1.00; their weights give 4.01", ""},
		{"idle", 0, 2e9, [2]string{"w1", "w1"}, false, "both must be busy to compete", ""},
		{"two nodes", 1e9, 4e9, [2]string{"w1", "w2"}, false, "CPU weights only matter between processes that compete on one node", ""},
		{"equal weights", 1e9, 1e9, [2]string{"w1", "w1"}, false, "have the same CPU weight (204)", "204"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := fakeEngine(cpuPod("light", "200m", tc.nodes[0], "containerd://l"), cpuPod("heavy", "800m", tc.nodes[1], "containerd://h"))
			heavy := tc.heavyShares
			if heavy == "" {
				heavy = "819"
			}
			e.Prober = &advancing{procsByContainer: procsByContainer{procs: procs}, reads: map[string]int{},
				step:  map[string]int64{"/sys/fs/cgroup/cpuacct/l/cpuacct.usage": tc.light, "/sys/fs/cgroup/cpuacct/h/cpuacct.usage": tc.heavy},
				fixed: map[string]string{"/sys/fs/cgroup/cpu/l/cpu.shares": "204", "/sys/fs/cgroup/cpu/h/cpu.shares": heavy}}
			got := runWith(t, e, spec)
			if got.Passed != tc.pass || !strings.Contains(got.Found, tc.says) {
				t.Errorf("passed=%v found %q; want %v saying %q", got.Passed, got.Found, tc.pass, tc.says)
			}
		})
	}
	for _, src := range []string{"- {type: cpu-share, pods: [a]}", "- {type: cpu-share, pods: [a, a]}", "- {type: cpu-share, pods: [a, b], tolerance: 2}", "- {type: cpu-share, pods: [a, b], window: 2h}"} {
		if _, err := ParseSpecs([]byte(src)); err == nil {
			t.Errorf("ParseSpecs(%s) accepted it", src)
		}
	}
}
