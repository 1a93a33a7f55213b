package checks

import (
	"context"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
)

// procsByContainer gives each container its own process.
type procsByContainer struct {
	fakeProber
	procs map[string]NodeProcess
}

func (f *procsByContainer) NodeProcess(ctx context.Context, node, id string) (NodeProcess, error) {
	if p, ok := f.procs[id]; ok {
		return p, nil
	}
	return f.fakeProber.NodeProcess(ctx, node, id)
}

func withContainerID(p *corev1.Pod, id string) *corev1.Pod {
	p.Status.ContainerStatuses[0].ContainerID = id
	return p
}

// An answer passes only when it is the truth read from the node; a wrong
// one is said to be wrong without the right one; no answer is not wrong.
func TestAnswerCheck(t *testing.T) {
	g := qosPod("guaranteed", corev1.PodQOSGuaranteed,
		corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("256Mi")}, corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("256Mi")})
	proc := NodeProcess{PID: 4242, CgroupVersion: 2, Cgroups: map[string]string{"": "/sys/fs/cgroup/kubepods/podx/c"}}
	judge := func(src, answer string, files map[string]string) Result {
		e := fakeEngine(g, workerNode())
		e.Prober = &fakeProber{node: proc, nodeFiles: files}
		res, err := e.Run(context.Background(), []Spec{mustSpec(t, src)}, Options{Answer: answer})
		if err != nil {
			t.Fatal(err)
		}
		return res[0]
	}
	pid := "{type: answer, question: the PID on the node, truth: pid-on-node, pod: guaranteed}"
	if got := judge(pid, "", nil); got.Passed || !strings.Contains(got.Found, "no answer yet") {
		t.Errorf("no answer: %s", got.Sentence())
	}
	if got := judge(pid, "1", nil); got.Passed || !strings.Contains(got.Found, "your answer 1 is not it") || strings.Contains(got.Found, "4242") {
		t.Errorf("wrong answer (PID 1 is the container's own view): %s", got.Sentence())
	}
	if got := judge(pid, " 4242\n", nil); !got.Passed || got.Expected != "your answer: the PID on the node" {
		t.Errorf("right answer: %s", got.Sentence())
	}
	mem := "{type: answer, question: its memory limit in bytes, truth: memory-limit, pod: guaranteed}"
	files := map[string]string{"/sys/fs/cgroup/kubepods/podx/c/memory.max": "268435456"}
	for answer, pass := range map[string]bool{"268435456": true, "256Mi": true, "256M": false, "max": false} {
		if got := judge(mem, answer, files); got.Passed != pass {
			t.Errorf("memory limit answered %q: %s", answer, got.Sentence())
		}
	}
	ip := "{type: answer, question: its IP, truth: pod-ip, pod: guaranteed}"
	g.Status.PodIP = "10.244.1.7"
	if got := judge(ip, "10.244.1.7", nil); !got.Passed {
		t.Errorf("pod IP: %s", got.Sentence())
	}
}

// Which pod dies first is read from the candidates' oom_score_adj on the
// node: the BestEffort one here; a tie has no single answer.
func TestAnswerOOMFirst(t *testing.T) {
	be := withContainerID(qosPod("besteffort", corev1.PodQOSBestEffort, nil, nil), "containerd://be")
	bu := withContainerID(qosPod("burstable", corev1.PodQOSBurstable, nil, nil), "containerd://bu")
	gu := withContainerID(qosPod("guaranteed", corev1.PodQOSGuaranteed, nil, nil), "containerd://gu")
	for _, p := range []*corev1.Pod{be, bu, gu} {
		p.Labels = map[string]string{"oom": "demo"}
	}
	spec := mustSpec(t, "{type: answer, question: which pod dies first, truth: oom-first, selector: oom=demo}")
	run := func(adj map[string]string, answer string) Result {
		e := fakeEngine(be, bu, gu, workerNode())
		e.Prober = &procsByContainer{
			fakeProber: fakeProber{nodeFiles: map[string]string{"/proc/1/oom_score_adj": adj["be"], "/proc/2/oom_score_adj": adj["bu"], "/proc/3/oom_score_adj": adj["gu"]}},
			procs:      map[string]NodeProcess{"containerd://be": {PID: 1}, "containerd://bu": {PID: 2}, "containerd://gu": {PID: 3}},
		}
		res, err := e.Run(context.Background(), []Spec{spec}, Options{Answer: answer})
		if err != nil {
			t.Fatal(err)
		}
		return res[0]
	}
	adj := map[string]string{"be": "1000", "bu": "990", "gu": "0"}
	if got := run(adj, "guaranteed"); got.Passed {
		t.Errorf("guaranteed answered: %s", got.Sentence())
	}
	if got := run(adj, "besteffort"); !got.Passed {
		t.Errorf("besteffort answered: %s", got.Sentence())
	}
	tie := map[string]string{"be": "1000", "bu": "1000", "gu": "0"}
	if got := run(tie, "besteffort"); got.Passed || !strings.Contains(got.Found, "no single pod dies first") {
		t.Errorf("tie: %s", got.Sentence())
	}
}

func TestAnswerSpecErrors(t *testing.T) {
	for _, tc := range []struct{ src, want string }{
		{"- {type: answer, truth: pid-on-node, pod: x}", `"question"`},
		{"- {type: answer, question: q, truth: the-pid, pod: x}", `truth "the-pid" is not one labs can read`},
		{"- {type: answer, question: q, truth: node}", `set exactly one of "pod" or "selector"`},
		{"- {type: answer, question: q, truth: node, pod: x, answer: '42'}", `unknown field "answer"`},
	} {
		if _, err := ParseSpecs([]byte(tc.src)); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("ParseSpecs(%s) = %v, want %q", tc.src, err, tc.want)
		}
	}
}

// A missing or wrong answer does not change by waiting: `labs check` says
// so at once instead of waiting out the check's timeout.
func TestAnswerVerdictDoesNotWait(t *testing.T) {
	g := qosPod("guaranteed", corev1.PodQOSGuaranteed, nil, nil)
	e := fakeEngine(g, workerNode())
	e.Prober = &fakeProber{node: NodeProcess{PID: 7}}
	spec := mustSpec(t, "{type: answer, question: the PID, truth: pid-on-node, pod: guaranteed, timeout: 60s}")
	for _, answer := range []string{"", "8"} {
		res, err := e.Run(context.Background(), []Spec{spec}, Options{Wait: true, Answer: answer})
		if err != nil {
			t.Fatal(err)
		}
		if res[0].Passed || res[0].Err != nil || res[0].Elapsed > 10*time.Second {
			t.Errorf("answer %q: passed=%v err=%v after %s", answer, res[0].Passed, res[0].Err, res[0].Elapsed)
		}
	}
}

// The PID inside the container and the root's file system type are read
// from the node's /proc, not assumed.
func TestAnswerReadFromProc(t *testing.T) {
	p := qosPod("box", corev1.PodQOSBestEffort, nil, nil)
	files := map[string]string{
		"/proc/9/status": "Name:\tlabapp\nNSpid:\t2417\t1\n",
		"/proc/9/mounts": "overlay / overlay rw,relatime,lowerdir=/a 0 0\nproc /proc proc rw 0 0",
	}
	for _, tc := range []struct{ truth, right, wrong string }{
		{"pid-in-container", "1", "2417"},
		{"rootfs-type", "overlay", "ext4"},
	} {
		spec := mustSpec(t, "{type: answer, question: q, truth: "+tc.truth+", pod: box}")
		for answer, pass := range map[string]bool{tc.right: true, tc.wrong: false} {
			e := fakeEngine(p, workerNode())
			e.Prober = &fakeProber{node: NodeProcess{PID: 9}, nodeFiles: files}
			res, err := e.Run(context.Background(), []Spec{spec}, Options{Answer: answer})
			if err != nil {
				t.Fatal(err)
			}
			if res[0].Passed != pass {
				t.Errorf("%s answered %q: %s", tc.truth, answer, res[0].Sentence())
			}
		}
	}
}
