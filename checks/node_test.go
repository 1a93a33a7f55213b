package checks

import (
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// The formulas against values the kubelet and runc produce (the Kubernetes
// sources are cited in cgroup.go; the v1 values were also read on this
// project's CI nodes: 250m -> 256, 500m -> 512, none -> 2, quota 50000).
func TestCgroupFormulas(t *testing.T) {
	for _, tc := range []struct {
		cpu          string
		shares       int64
		lin, quad    int64
		limit, quota int64
	}{
		{"0", 2, 1, 1, 0, -1},
		{"1m", 2, 1, 1, 1, 1000},
		{"250m", 256, 10, 35, 250, 25000},
		{"500m", 512, 20, 59, 500, 50000},
		{"1", 1024, 39, 100, 1000, 100000},
		{"2", 2048, 79, 174, 2000, 200000},
		{"300", 262144, 10000, 10000, 300000, 30000000},
	} {
		q := resource.MustParse(tc.cpu)
		if got := SharesFor(q); got != tc.shares {
			t.Errorf("SharesFor(%s) = %d, want %d", tc.cpu, got, tc.shares)
		}
		if lin, quad := WeightsFor(tc.shares); lin != tc.lin || quad != tc.quad {
			t.Errorf("WeightsFor(%d) = %d, %d; want %d, %d", tc.shares, lin, quad, tc.lin, tc.quad)
		}
		if got := QuotaFor(*resource.NewMilliQuantity(tc.limit, resource.DecimalSI)); got != tc.quota {
			t.Errorf("QuotaFor(%dm) = %d, want %d", tc.limit, got, tc.quota)
		}
	}
	const node = 25276026880 // this CI machine's node memory
	for _, tc := range []struct {
		qos  corev1.PodQOSClass
		req  int64
		want int64
	}{
		{corev1.PodQOSGuaranteed, 256 << 20, -997},
		{corev1.PodQOSBestEffort, 0, 1000},
		{corev1.PodQOSBurstable, 256 << 20, 990}, // read on a CI worker
		{corev1.PodQOSBurstable, 0, 999},         // 1000 would equal BestEffort
		{corev1.PodQOSBurstable, node, 3},        // never at Guaranteed's level
	} {
		if got, why := OOMScoreAdjFor(tc.qos, tc.req, node); got != tc.want {
			t.Errorf("OOMScoreAdjFor(%s, %d) = %d (%s), want %d", tc.qos, tc.req, got, why, tc.want)
		}
	}
}

func qosPod(name string, qos corev1.PodQOSClass, req, lim corev1.ResourceList) *corev1.Pod {
	p := pod(name, name, 0, func(p *corev1.Pod) {
		p.Spec.NodeName = "labs-worker"
		p.Status.QOSClass = qos
		p.Spec.Containers = []corev1.Container{{Name: "app", Resources: corev1.ResourceRequirements{Requests: req, Limits: lim}}}
		p.Status.ContainerStatuses = []corev1.ContainerStatus{{Name: "app", ContainerID: "containerd://abc", State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{}}}}
	})
	return p
}

func workerNode() *corev1.Node {
	return &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "labs-worker"}, Status: corev1.NodeStatus{Capacity: corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("25276026880")}}}
}

// A node check passes on the value Kubernetes computes and fails on any
// other, saying the computed value and its formula, on cgroup v1 and v2.
func TestNodeCheck(t *testing.T) {
	v1 := NodeProcess{PID: 1102, CgroupVersion: 1, Cgroups: map[string]string{
		"cpu":    "/sys/fs/cgroup/cpu/kubelet.slice/kubelet-kubepods.slice/kubelet-kubepods-burstable.slice/p.slice/c.scope",
		"memory": "/sys/fs/cgroup/memory/kubelet.slice/kubelet-kubepods.slice/kubelet-kubepods-burstable.slice/p.slice/c.scope"}}
	v2 := NodeProcess{PID: 2417, CgroupVersion: 2, Cgroups: map[string]string{
		"": "/sys/fs/cgroup/kubelet.slice/kubelet-kubepods.slice/kubelet-kubepods-burstable.slice/p.slice/c.scope"}}
	burstable := qosPod("burstable", corev1.PodQOSBurstable,
		corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("250m"), corev1.ResourceMemory: resource.MustParse("256Mi")},
		corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("512Mi")})
	tests := []struct {
		name, value string
		proc        NodeProcess
		file        string
		right       []string // values that pass
		wrong       string
		wrongSays   string
	}{
		{"v1 cpu.shares", "cpu-shares", v1, v1.Cgroups["cpu"] + "/cpu.shares", []string{"256"}, "2", "cpu.shares 2 in " + v1.Cgroups["cpu"] + "/cpu.shares; Kubernetes' value is cpu.shares 256 (requests.cpu 250m × 1024 / 1000)"},
		{"v2 cpu.weight, either runc", "cpu-shares", v2, v2.Cgroups[""] + "/cpu.weight", []string{"10", "35"}, "100", "cpu.weight 10 or 35 (cpu.shares 256 from requests.cpu 250m × 1024 / 1000"},
		{"v1 no cpu quota", "cpu-limit", v1, v1.Cgroups["cpu"] + "/cpu.cfs_quota_us", []string{"-1"}, "50000", "cpu.cfs_quota_us -1 (no limits.cpu: no quota)"},
		{"v2 no cpu quota", "cpu-limit", v2, v2.Cgroups[""] + "/cpu.max", []string{"max 100000"}, "50000 100000", `cpu.max "max 100000"`},
		{"v1 memory limit", "memory-limit", v1, v1.Cgroups["memory"] + "/memory.limit_in_bytes", []string{"536870912"}, "9223372036854771712", "memory.limit_in_bytes 536870912 (limits.memory 512Mi)"},
		{"v2 memory limit", "memory-limit", v2, v2.Cgroups[""] + "/memory.max", []string{"536870912"}, "max", "memory.max 536870912 (limits.memory 512Mi)"},
		{"oom_score_adj", "oom-score-adj", v1, "/proc/1102/oom_score_adj", []string{"990"}, "1000", "oom_score_adj 1000; the kubelet's value is 990 (Burstable: 1000 - 1000 × 268435456 / 25276026880"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := mustSpec(t, "{type: node, pod: burstable, value: "+tc.value+"}")
			run := func(content string) Result {
				e := fakeEngine(burstable, workerNode())
				e.Prober = &fakeProber{node: tc.proc, nodeFiles: map[string]string{tc.file: content}}
				return runWith(t, e, s)
			}
			if got := run(tc.wrong); got.Passed || !strings.Contains(got.Found, tc.wrongSays) {
				t.Errorf("wrong value %q: passed=%v, found %q; want it to say %q", tc.wrong, got.Passed, got.Found, tc.wrongSays)
			}
			for _, r := range tc.right {
				if got := run(r); !got.Passed {
					t.Errorf("right value %q failed: %s", r, got.Sentence())
				}
			}
		})
	}
}

// A Guaranteed pod's 0 passes only where negative values are refused, and
// the check says so; where they are allowed, 0 is wrong.
func TestNodeCheckClampedOOMScoreAdj(t *testing.T) {
	g := qosPod("guaranteed", corev1.PodQOSGuaranteed,
		corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("500m"), corev1.ResourceMemory: resource.MustParse("256Mi")},
		corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("500m"), corev1.ResourceMemory: resource.MustParse("256Mi")})
	proc := NodeProcess{PID: 7, CgroupVersion: 1, Cgroups: map[string]string{"cpu": "/c", "memory": "/sys/fs/cgroup/memory/kubepods/podx/c"}}
	s := mustSpec(t, "{type: node, pod: guaranteed, value: oom-score-adj}")
	for _, tc := range []struct {
		got, probe string
		pass       bool
		says       string
	}{
		{"-997", "-998", true, "oom_score_adj -997 (Guaranteed: always -997"},
		{"0", "0", true, "this machine forbids negative values (no CAP_SYS_RESOURCE: set -998, read back 0)"},
		{"0", "-998", false, "oom_score_adj 0; the kubelet's value is -997"},
		{"0", "", false, "oom_score_adj 0; the kubelet's value is -997"}, // a probe that printed nothing proves nothing
	} {
		e := fakeEngine(g, workerNode())
		e.Prober = &fakeProber{node: proc, nodeFiles: map[string]string{"/proc/7/oom_score_adj": tc.got}, nodeShell: tc.probe + "\n"}
		got := runWith(t, e, s)
		if got.Passed != tc.pass || !strings.Contains(got.Found, tc.says) {
			t.Errorf("read %s, probe %s: passed=%v found %q; want passed=%v saying %q", tc.got, tc.probe, got.Passed, got.Found, tc.pass, tc.says)
		}
	}
	q := mustSpec(t, "{type: node, pod: guaranteed, value: qos-cgroup}")
	e := fakeEngine(g, workerNode())
	e.Prober = &fakeProber{node: NodeProcess{PID: 7, CgroupVersion: 1, Cgroups: map[string]string{"memory": "/sys/fs/cgroup/memory/kubepods/burstable/podx/c"}}}
	if got := runWith(t, e, q); got.Passed || !strings.Contains(got.Found, "is where Burstable pods go, but the pod is Guaranteed") {
		t.Errorf("qos-cgroup in the wrong tree: %s", got.Sentence())
	}
	e = fakeEngine(g, workerNode())
	e.Prober = &fakeProber{node: proc}
	if got := runWith(t, e, q); !got.Passed {
		t.Errorf("qos-cgroup directly under kubepods: %s", got.Sentence())
	}
	e = fakeEngine(g, workerNode())
	e.Prober = &fakeProber{}
	if got := runWith(t, e, q); got.Passed || !strings.Contains(got.Found, "no process of container") {
		t.Errorf("a container gone from its node: %s", got.Sentence())
	}
}

func TestNodeSpecErrors(t *testing.T) {
	for _, tc := range []struct{ src, want string }{
		{"- {type: node, pod: x, value: cpu.shares}", `value "cpu.shares" is not one labs reads`},
		{"- {type: node, value: cpu-shares}", `set exactly one of "pod" or "selector"`},
	} {
		if _, err := ParseSpecs([]byte(tc.src)); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("ParseSpecs(%s) = %v, want %q", tc.src, err, tc.want)
		}
	}
}

// A container's namespaces are its own, unless the spec shares one with
// the node (hostNetwork: net); the check fails on any other mix.
func TestNodeCheckNamespaces(t *testing.T) {
	p := qosPod("box", corev1.PodQOSBestEffort, nil, nil)
	own := "net net:[10] net:[1]\npid pid:[11] pid:[2]\nmnt mnt:[12] mnt:[3]\nuts uts:[13] uts:[4]\nipc ipc:[14] ipc:[5]\n"
	hostNet := strings.Replace(own, "net net:[10] net:[1]", "net net:[1] net:[1]", 1)
	for _, tc := range []struct {
		spec, ns string
		pass     bool
		says     string
	}{
		{"{type: node, pod: box, value: namespaces}", own, true, "own namespaces net:[10] pid:[11] mnt:[12] uts:[13] ipc:[14]"},
		{"{type: node, pod: box, value: namespaces}", hostNet, false, "its net namespace is the node's own (net:[1])"},
		{"{type: node, pod: box, value: namespaces, shared: [net]}", hostNet, true, "the node's net"},
		{"{type: node, pod: box, value: namespaces, shared: [net]}", own, false, "its net namespace net:[10] is not the node's net:[1]"},
	} {
		e := fakeEngine(p, workerNode())
		e.Prober = &fakeProber{node: NodeProcess{PID: 9}, nodeShell: tc.ns}
		got := runWith(t, e, mustSpec(t, tc.spec))
		if got.Passed != tc.pass || !strings.Contains(got.Found, tc.says) {
			t.Errorf("%s on %q: passed=%v found %q; want %v saying %q", tc.spec, tc.ns, got.Passed, got.Found, tc.pass, tc.says)
		}
	}
	if _, err := ParseSpecs([]byte("- {type: node, pod: box, value: namespaces, shared: [network]}")); err == nil || !strings.Contains(err.Error(), `shared namespace "network" is not one of net, pid, mnt, uts, ipc`) {
		t.Errorf("unknown shared namespace: %v", err)
	}
}
