package checks

import (
	"context"
	"fmt"
	"math"
	"path"
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
)

type cpuShareParams struct {
	Pods      []string  `json:"pods"`
	Window    *Duration `json:"window,omitempty"`
	Tolerance float64   `json:"tolerance,omitempty"`
}

func cpuShareType() Type {
	return Type{
		Name:   "cpu-share",
		Fields: "`pods` (two busy pods on one node), `window` (how long to measure, default 10s), `tolerance` (relative, default 0.25)",
		Passes: "over the window, the CPU time the two pods' containers used (cpuacct.usage, or cpu.stat usage_usec on cgroup v2, read on their node) has the ratio of their CPU weights (cpu.shares or cpu.weight, as the kubelet set them from requests.cpu, read on the node) within the tolerance: under contention the kernel shares CPU by weight. Equal weights fail: there is nothing to compare",
		Example: `- type: cpu-share
  pods: [light, heavy]
  window: 10s`,
		compile: typed(func(p cpuShareParams, _ time.Duration) (Check, error) {
			if len(p.Pods) != 2 || p.Pods[0] == "" || p.Pods[1] == "" || p.Pods[0] == p.Pods[1] {
				return nil, fmt.Errorf("field %q names two different pods", "pods")
			}
			if p.Tolerance < 0 || p.Tolerance >= 1 {
				return nil, fmt.Errorf("tolerance %v must be between 0 and 1 (0.25: within 25%%)", p.Tolerance)
			}
			c := &cpuShare{p: p, window: 10 * time.Second, tolerance: 0.25}
			if p.Window != nil {
				if p.Window.Duration < time.Second || p.Window.Duration > time.Minute {
					return nil, fmt.Errorf("window %s must be between 1s and 1m", p.Window.Duration)
				}
				c.window = p.Window.Duration
			}
			if p.Tolerance > 0 {
				c.tolerance = p.Tolerance
			}
			return c, nil
		}),
	}
}

type cpuShare struct {
	p         cpuShareParams
	window    time.Duration
	tolerance float64
}

func (c *cpuShare) Needs() []Resource { return []Resource{podResource()} }

func (c *cpuShare) Concern() Concern { return Concern{} }

func (c *cpuShare) Expected() string {
	return fmt.Sprintf("pods %s and %s share their node's CPU in the ratio of their CPU weights (within %.0f%%)", c.p.Pods[0], c.p.Pods[1], c.tolerance*100)
}

// usageFile is the file with a cgroup's CPU time used, and its unit in
// nanoseconds.
func usageFile(proc NodeProcess) (string, int64) {
	if proc.CgroupVersion == 2 {
		return path.Join(proc.Dir(""), "cpu.stat"), 1000 // usage_usec
	}
	return path.Join(proc.Dir("cpuacct"), "cpuacct.usage"), 1
}

func readUsage(ctx context.Context, np NodeProber, node string, proc NodeProcess) (time.Duration, error) {
	file, unit := usageFile(proc)
	s, err := readNodeFile(ctx, np, node, file)
	if err != nil {
		return 0, err
	}
	if proc.CgroupVersion == 2 {
		for _, line := range strings.Split(s, "\n") {
			if f := strings.Fields(line); len(f) == 2 && f[0] == "usage_usec" {
				s = f[1]
			}
		}
	}
	n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%s on %s reads %q", file, node, s)
	}
	return time.Duration(n * unit), nil
}

func (c *cpuShare) Probe(ctx context.Context, s *State, pr Prober, _ string) (bool, string, error) {
	np, ok := pr.(NodeProber)
	if !ok {
		return false, "", fmt.Errorf("this check reads the nodes, which needs labs' own cluster")
	}
	var pods [2]*corev1.Pod
	var procs [2]NodeProcess
	var weights [2]int64
	for i, name := range c.p.Pods {
		t, err := newPodTarget(name, "", "")
		if err != nil {
			return false, "", err
		}
		found, statuses := t.targets(s)
		if len(found) == 0 {
			return false, fmt.Sprintf("no running container in pod %s", name), nil
		}
		pods[i] = found[0]
		if procs[i], err = np.NodeProcess(ctx, found[0].Spec.NodeName, statuses[0].ContainerID); err != nil {
			return false, err.Error(), nil
		}
		// The weights as the node holds them (cpu.shares, or cpu.weight
		// as this node's runc converted them on v2), set by the kubelet
		// from requests.cpu: the kernel shares by these.
		file, full := cgroupFile("cpu-shares", procs[i])
		w, err := readNodeFile(ctx, np, found[0].Spec.NodeName, full)
		if err != nil {
			return false, err.Error(), nil
		}
		if weights[i], err = strconv.ParseInt(w, 10, 64); err != nil || weights[i] <= 0 {
			return false, fmt.Sprintf("%s of pod %s reads %q", file, name, w), nil
		}
	}
	if weights[0] == weights[1] {
		return false, fmt.Sprintf("pods %s and %s have the same CPU weight (%d): give them different requests.cpu, or there is nothing to compare", pods[0].Name, pods[1].Name, weights[0]), nil
	}
	if pods[0].Spec.NodeName != pods[1].Spec.NodeName {
		return false, fmt.Sprintf("pod %s runs on %s and pod %s on %s: CPU weights only matter between processes that compete on one node", pods[0].Name, pods[0].Spec.NodeName, pods[1].Name, pods[1].Spec.NodeName), nil
	}
	node := pods[0].Spec.NodeName
	var before, after [2]time.Duration
	for i := range procs {
		var err error
		if before[i], err = readUsage(ctx, np, node, procs[i]); err != nil {
			return false, err.Error(), nil
		}
	}
	select {
	case <-time.After(c.window):
	case <-ctx.Done():
		return false, "", ctx.Err()
	}
	for i := range procs {
		var err error
		if after[i], err = readUsage(ctx, np, node, procs[i]); err != nil {
			return false, err.Error(), nil
		}
	}
	used := [2]time.Duration{after[0] - before[0], after[1] - before[1]}
	want := float64(weights[1]) / float64(weights[0])
	measured := fmt.Sprintf("in %s on %s, %s used %.2fs of CPU and %s %.2fs", c.window, node, pods[0].Name, used[0].Seconds(), pods[1].Name, used[1].Seconds())
	if used[0] <= 0 || used[1] <= 0 {
		return false, measured + ": both must be busy to compete", nil
	}
	got := used[1].Seconds() / used[0].Seconds()
	verdict := fmt.Sprintf("%s: ratio %.2f; their weights give %.2f (%d / %d)", measured, got, want, weights[1], weights[0])
	if math.Abs(got-want)/want > c.tolerance {
		return false, verdict, nil
	}
	return true, verdict, nil
}
