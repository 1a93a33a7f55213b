package checks

import (
	"context"
	"fmt"
	"path"
	"sort"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
)

// NodeProcess is a container's main process as its node sees it.
type NodeProcess struct {
	PID           int
	CgroupVersion int // 1 or 2
	// Cgroups maps a v1 controller (cpu, memory) to the process's cgroup
	// directory on the node; on v2 the one directory is under "".
	Cgroups map[string]string
}

// Dir is where controller's files are (v2: the one directory).
func (p NodeProcess) Dir(controller string) string {
	if p.CgroupVersion == 2 {
		return p.Cgroups[""]
	}
	return p.Cgroups[controller]
}

// NodeProber reaches the nodes themselves (kind nodes are containers on
// the learner's machine): part of Prober.
type NodeProber interface {
	// NodeProcess finds a container's main process on its node.
	NodeProcess(ctx context.Context, node, containerID string) (NodeProcess, error)
	// NodeExec runs a command on a node, as root.
	NodeExec(ctx context.Context, node string, cmd []string) (ExecResult, error)
}

type nodeParams struct {
	Pod       string `json:"pod,omitempty"`
	Selector  string `json:"selector,omitempty"`
	Container string `json:"container,omitempty"`
	Value     string `json:"value"`
}

// nodeValues are what a node check can read, for the reference.
var nodeValues = []string{"cpu-shares", "cpu-limit", "memory-limit", "oom-score-adj", "qos-cgroup"}

func nodeType() Type {
	return Type{
		Name:   "node",
		Fields: "`pod` or `selector` (every running pod it selects), `container` (optional: the first), `value`: `cpu-shares` (v1 cpu.shares, v2 cpu.weight), `cpu-limit` (cpu.cfs_quota_us, cpu.max), `memory-limit` (memory.limit_in_bytes, memory.max), `oom-score-adj` (/proc/PID/oom_score_adj), `qos-cgroup` (where the pod's cgroup is)",
		Passes: "what the node holds for the container's main process (found on its node through Docker, cgroup v1 or v2) equals what Kubernetes computes from the pod's spec and the node's memory; a failure says the computed value and its formula. Where the machine forbids negative oom_score_adj (no CAP_SYS_RESOURCE), a Guaranteed pod's clamped 0 passes and the check says so",
		Example: `- type: node
  pod: burstable
  value: cpu-shares
- type: node
  selector: qos=guaranteed
  value: oom-score-adj`,
		compile: typed(func(p nodeParams, _ time.Duration) (Check, error) {
			return newNodeCheck(p)
		}),
	}
}

type nodeCheck struct {
	p        nodeParams
	selector labels.Selector
}

func newNodeCheck(p nodeParams) (Check, error) {
	if (p.Pod == "") == (p.Selector == "") {
		return nil, fmt.Errorf("set exactly one of %q or %q", "pod", "selector")
	}
	known := false
	for _, v := range nodeValues {
		known = known || v == p.Value
	}
	if !known {
		return nil, fmt.Errorf("value %q is not one labs reads (%s)", p.Value, strings.Join(nodeValues, ", "))
	}
	c := &nodeCheck{p: p, selector: labels.Everything()}
	if p.Selector != "" {
		var err error
		if c.selector, err = labels.Parse(p.Selector); err != nil {
			return nil, fmt.Errorf("selector %q: %w", p.Selector, err)
		}
	}
	return c, nil
}

func nodeResource() Resource { return Resource{APIVersion: "v1", Kind: "Node"} }

func (c *nodeCheck) Needs() []Resource { return []Resource{podResource(), nodeResource()} }

func (c *nodeCheck) Concern() Concern { return Concern{Selector: c.p.Selector} }

func (c *nodeCheck) where() string {
	if c.p.Pod != "" {
		return "pod " + c.p.Pod
	}
	return "pods matching " + c.p.Selector
}

func (c *nodeCheck) Expected() string {
	what := map[string]string{
		"cpu-shares":    "its CPU weight (cpu.shares, cpu.weight on cgroup v2) is what its requests.cpu gives",
		"cpu-limit":     "its CPU quota (cpu.cfs_quota_us, cpu.max on cgroup v2) is what its limits.cpu gives",
		"memory-limit":  "its memory limit (memory.limit_in_bytes, memory.max on cgroup v2) is its limits.memory",
		"oom-score-adj": "its main process's oom_score_adj is what the kubelet computes for its QoS class",
		"qos-cgroup":    "its cgroup sits where its QoS class puts it under kubepods",
	}[c.p.Value]
	return fmt.Sprintf("on the node of %s: %s", c.where(), what)
}

// targets are the selected pods whose container runs, with that container.
func (c *nodeCheck) targets(s *State) ([]*corev1.Pod, []corev1.ContainerStatus) {
	var pods []*corev1.Pod
	var statuses []corev1.ContainerStatus
	for _, p := range s.Pods() {
		if (c.p.Pod != "" && p.Name != c.p.Pod) || !c.selector.Matches(labels.Set(p.Labels)) || p.DeletionTimestamp != nil || p.Spec.NodeName == "" {
			continue
		}
		for _, cs := range p.Status.ContainerStatuses {
			if (c.p.Container == "" || cs.Name == c.p.Container) && cs.State.Running != nil && cs.ContainerID != "" {
				pods, statuses = append(pods, p), append(statuses, cs)
				break
			}
		}
	}
	return pods, statuses
}

func (c *nodeCheck) Probe(ctx context.Context, s *State, pr Prober, _ string) (bool, string, error) {
	np, ok := pr.(NodeProber)
	if !ok || pr == nil {
		return false, "", fmt.Errorf("this check reads the nodes, which needs labs' own cluster")
	}
	pods, statuses := c.targets(s)
	if len(pods) == 0 {
		return false, fmt.Sprintf("no running container in %s", c.where()), nil
	}
	var found []string
	for i, pod := range pods {
		ok, f := c.probeOne(ctx, s, np, pod, statuses[i])
		if !ok {
			return false, f, nil
		}
		found = append(found, f)
	}
	sort.Strings(found)
	return true, strings.Join(found, "; "), nil
}

func (c *nodeCheck) probeOne(ctx context.Context, s *State, np NodeProber, pod *corev1.Pod, cs corev1.ContainerStatus) (bool, string) {
	node := pod.Spec.NodeName
	proc, err := np.NodeProcess(ctx, node, cs.ContainerID)
	if err != nil {
		return false, err.Error()
	}
	var spec *corev1.Container
	for i := range pod.Spec.Containers {
		if pod.Spec.Containers[i].Name == cs.Name {
			spec = &pod.Spec.Containers[i]
		}
	}
	if spec == nil {
		return false, fmt.Sprintf("container %s is not in pod %s's spec", cs.Name, pod.Name)
	}
	at := fmt.Sprintf("pod %s on %s, PID %d", pod.Name, node, proc.PID)
	read := func(file string) (string, error) {
		res, err := np.NodeExec(ctx, node, []string{"cat", file})
		if err != nil {
			return "", err
		}
		if res.ExitCode != 0 {
			return "", fmt.Errorf("reading %s on %s: %s", file, node, strings.TrimSpace(res.Stderr))
		}
		return strings.TrimSpace(res.Stdout), nil
	}
	switch c.p.Value {
	case "oom-score-adj":
		return c.judgeOOM(ctx, s, np, pod, spec, proc, read, at)
	case "qos-cgroup":
		dir := proc.Dir("memory")
		got, known := qosOfCgroupPath(dir)
		switch {
		case !known:
			return false, fmt.Sprintf("cgroup %s is not under kubepods: a layout labs does not know (%s)", dir, at)
		case got != pod.Status.QOSClass:
			return false, fmt.Sprintf("cgroup %s is where %s pods go, but the pod is %s (%s)", dir, got, pod.Status.QOSClass, at)
		}
		return true, fmt.Sprintf("%s pod in %s (%s)", got, dir, at)
	}
	v := cgroupValues[c.p.Value]
	file := v.v1
	if proc.CgroupVersion == 2 {
		file = v.v2
	}
	full := path.Join(proc.Dir(v.controller), file)
	got, err := read(full)
	if err != nil {
		return false, err.Error()
	}
	ok, want := judgeCgroup(c.p.Value, proc.CgroupVersion, spec, got)
	if !ok {
		return false, fmt.Sprintf("%s %s in %s; Kubernetes' value is %s (%s)", file, got, full, want, at)
	}
	return true, fmt.Sprintf("%s %s, as %s (%s)", file, got, want, at)
}

// OOMProbeScript lowers a shell's own oom_score_adj below 0 and reads it back:
// where that is refused (no CAP_SYS_RESOURCE), containerd clamps the
// kubelet's -997 for Guaranteed pods to 0.
const OOMProbeScript = `echo -998 > /proc/self/oom_score_adj 2>/dev/null; cat /proc/self/oom_score_adj`

func (c *nodeCheck) judgeOOM(ctx context.Context, s *State, np NodeProber, pod *corev1.Pod, spec *corev1.Container, proc NodeProcess, read func(string) (string, error), at string) (bool, string) {
	got, err := read(fmt.Sprintf("/proc/%d/oom_score_adj", proc.PID))
	if err != nil {
		return false, err.Error()
	}
	var capacity int64
	for _, n := range s.Objects(nodeResource()) {
		if n.GetName() == pod.Spec.NodeName {
			if q, ok, _ := nestedQuantity(n.Object, "status", "capacity", "memory"); ok {
				capacity = q
			}
		}
	}
	mem := spec.Resources.Requests[corev1.ResourceMemory]
	want, why := OOMScoreAdjFor(pod.Status.QOSClass, mem.Value(), capacity)
	if got == fmt.Sprint(want) {
		return true, fmt.Sprintf("oom_score_adj %s (%s; %s)", got, why, at)
	}
	if want < 0 && got == "0" {
		res, err := np.NodeExec(ctx, pod.Spec.NodeName, []string{"sh", "-c", OOMProbeScript})
		if err == nil && strings.TrimSpace(res.Stdout) != "-998" {
			return true, fmt.Sprintf("oom_score_adj 0: the kubelet asks %d (%s), but this machine forbids negative values (no CAP_SYS_RESOURCE: set -998, read back %s), so the runtime keeps 0 (%s)", want, why, strings.TrimSpace(res.Stdout), at)
		}
	}
	return false, fmt.Sprintf("oom_score_adj %s; the kubelet's value is %d (%s; %s)", got, want, why, at)
}

// nestedQuantity reads a quantity (status.capacity.memory: "24Gi") from an
// unstructured object, as a plain number.
func nestedQuantity(obj map[string]any, fields ...string) (int64, bool, error) {
	s, ok, err := unstructured.NestedString(obj, fields...)
	if err != nil || !ok {
		return 0, false, err
	}
	q, err := resource.ParseQuantity(s)
	if err != nil {
		return 0, false, err
	}
	return q.Value(), true, nil
}
