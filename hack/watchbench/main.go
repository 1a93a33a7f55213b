// Command watchbench measures `labs watch` as a learner runs it, on a
// running lab cluster (LABS_CLUSTER_NAME picks another; `labs start` first
// so the cluster exists): it starts a 20-step bench lab whose steps each
// want a ConfigMap value, puts 200 pods in its namespace (Pending: a node
// selector no node has, so the 2-core machine stays idle; the watch holds
// them in its caches all the same), runs `labs watch --plain` as a
// separate process and
//   - latency: from the API call that makes a step's check true to the ✓
//     line of that check on the watch's output, 20 times;
//   - idle CPU: the watch process's CPU time over 60 s once the lab is done;
//   - memory: its resident set (VmRSS) and peak (VmHWM).
//
// It deletes its namespace. Prints a table.
package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/labs-dev/labs/hack/internal/labcluster"
)

const ns = "watchbench"

func main() {
	rounds := flag.Int("n", 20, "steps (changes) to time")
	pods := flag.Int("pods", 200, "pods in the namespace")
	idle := flag.Duration("idle", 60*time.Second, "how long to measure idle CPU")
	labs := flag.String("labs", "bin/labs", "the labs binary")
	evict := flag.Bool("from-disk", false, "drop the binary's pages from the page cache first, so they are read from disk as after a reboot or an install (see fileFolios)")
	flag.Parse()
	if *evict {
		if err := dropFromPageCache(*labs); err != nil {
			fmt.Fprintln(os.Stderr, "watchbench:", err)
			os.Exit(1)
		}
	}
	if err := run(*labs, *rounds, *pods, *idle); err != nil {
		fmt.Fprintln(os.Stderr, "watchbench:", err)
		os.Exit(1)
	}
}

func benchLab(n int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "---\nid: watchbench\ntitle: Watch bench\nsummary: one ConfigMap value per step\nnamespace: %s\n---\n", ns)
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&b, "## Round %d\n\nSet round to %d.\n\n```check\n- type: object\n  kind: ConfigMap\n  name: bench\n  match: {data: {round: \"r%d\"}}\n```\n\n```solve\nkubectl create configmap bench --from-literal=round=r%d --dry-run=client -o yaml | kubectl apply -f -\n```\n\n", i, i, i, i)
	}
	return b.String()
}

func run(labs string, n, npods int, idle time.Duration) error {
	ctx := context.Background()
	labs, _ = filepath.Abs(labs)
	dir, err := os.MkdirTemp("", "watchbench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	lab := filepath.Join(dir, "watchbench.md")
	if err := os.WriteFile(lab, []byte(benchLab(n)), 0o644); err != nil {
		return err
	}
	cfg, err := labcluster.Config()
	if err != nil {
		return err
	}
	// A namespace left by an earlier run must be gone first.
	pre, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return err
	}
	_ = pre.CoreV1().Namespaces().Delete(ctx, ns, metav1.DeleteOptions{})
	for i := 0; i < 120; i++ {
		if _, err := pre.CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{}); apierrors.IsNotFound(err) {
			break
		}
		time.Sleep(time.Second)
	}
	if out, err := exec.Command(labs, "start", lab).CombinedOutput(); err != nil {
		return fmt.Errorf("labs start: %v: %s", err, out)
	}
	// An earlier run's progress resumes at its end: start from step 1.
	if out, err := exec.Command(labs, "goto", "1").CombinedOutput(); err != nil {
		return fmt.Errorf("labs goto 1: %v: %s", err, out)
	}
	c, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return err
	}
	defer func() {
		_ = c.CoreV1().Namespaces().Delete(context.Background(), ns, metav1.DeleteOptions{})
	}()
	for i := 0; i < npods; i++ {
		p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("idle-%03d", i), Labels: map[string]string{"app": "idle"}},
			Spec: corev1.PodSpec{NodeSelector: map[string]string{"labs-bench": "nowhere"},
				Containers: []corev1.Container{{Name: "c", Image: "labapp:v1", ImagePullPolicy: corev1.PullIfNotPresent}}}}
		if _, err := c.CoreV1().Pods(ns).Create(ctx, p, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
			return err
		}
	}
	watch := exec.Command(labs, "watch", "--plain")
	stdout, err := watch.StdoutPipe()
	if err != nil {
		return err
	}
	if err := watch.Start(); err != nil {
		return err
	}
	defer func() { _ = watch.Process.Kill(); _ = watch.Wait() }()
	lines := make(chan string, 1024)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	waitLine := func(prefix string, within time.Duration) (time.Time, error) {
		deadline := time.After(within)
		for {
			select {
			case l, ok := <-lines:
				if !ok {
					return time.Time{}, fmt.Errorf("labs watch ended before %q", prefix)
				}
				if strings.HasPrefix(l, prefix) {
					return time.Now(), nil
				}
			case <-deadline:
				return time.Time{}, fmt.Errorf("no %q from labs watch within %s", prefix, within)
			}
		}
	}
	var lat []time.Duration
	for i := 1; i <= n; i++ {
		if _, err := waitLine(fmt.Sprintf("step %d/%d:", i, n), 60*time.Second); err != nil {
			return err
		}
		time.Sleep(300 * time.Millisecond) // the step's watch is up
		cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "bench"}, Data: map[string]string{"round": fmt.Sprintf("r%d", i)}}
		t0 := time.Now()
		_, err := c.CoreV1().ConfigMaps(ns).Update(ctx, cm, metav1.UpdateOptions{})
		if apierrors.IsNotFound(err) {
			t0 = time.Now()
			_, err = c.CoreV1().ConfigMaps(ns).Create(ctx, cm, metav1.CreateOptions{})
		}
		if err != nil {
			return err
		}
		t1, err := waitLine("  ✓ ", 30*time.Second)
		if err != nil {
			return err
		}
		lat = append(lat, t1.Sub(t0))
	}
	if _, err := waitLine(fmt.Sprintf("✓ step %d done", n), 30*time.Second); err != nil {
		return err
	}
	time.Sleep(5 * time.Second) // settled: the lab is complete, the watch idles
	pid := watch.Process.Pid
	cpu0 := cpuTicks(pid)
	start := time.Now()
	time.Sleep(idle)
	cpu1 := cpuTicks(pid)
	secs := float64(cpu1-cpu0) / 100 / time.Since(start).Seconds() * 100 // USER_HZ 100
	rss, hwm, anon, file := status(pid, "VmRSS"), status(pid, "VmHWM"), status(pid, "RssAnon"), status(pid, "RssFile")
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	pct := func(p float64) time.Duration { return lat[min(len(lat)-1, int(p*float64(len(lat))))] }
	fmt.Printf("labs watch --plain, %d pods in the namespace, %d changes\n", npods, len(lat))
	fmt.Printf("%-40s %s\n", "change -> ✓ on the output, p50", pct(0.50).Round(100*time.Microsecond))
	fmt.Printf("%-40s %s\n", "change -> ✓ on the output, p95", pct(0.95).Round(100*time.Microsecond))
	fmt.Printf("%-40s %s\n", "change -> ✓ on the output, max", lat[len(lat)-1].Round(100*time.Microsecond))
	fmt.Printf("%-40s %.2f %% of one core (over %s)\n", "idle CPU", secs, idle)
	fmt.Printf("%-40s %s (peak %s)\n", "memory (VmRSS)", rss, hwm)
	// RssFile is the binary's own pages (labs embeds kind, kubectl and the
	// workload images): clean and shared; RssAnon is what the watch holds.
	fmt.Printf("%-40s %s anonymous (heap, caches), %s file (the binary)\n", "  of which", anon, file)
	fmt.Printf("%-40s %d kB of the file pages in 2 MiB mappings\n", "  binary mapped in large folios", filePmdMapped(pid))
	return nil
}

// filePmdMapped is how much of a process's file pages the kernel mapped
// as whole 2 MiB folios. A binary just written by the linker sits in the
// page cache in such folios, and touching one byte of one maps all of it
// (Linux 6.x), so RssFile then counts nearly the whole binary; read back
// from disk (-from-disk) it is cached in small folios and only what runs
// is counted.
func filePmdMapped(pid int) int {
	b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/smaps", pid))
	kb := 0
	for _, l := range strings.Split(string(b), "\n") {
		if f := strings.Fields(l); len(f) >= 2 && f[0] == "FilePmdMapped:" {
			n, _ := strconv.Atoi(f[1])
			kb += n
		}
	}
	return kb
}

// cpuTicks is a process's user+system time in clock ticks (/proc/PID/stat).
func cpuTicks(pid int) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+2:]))
	u, _ := strconv.ParseInt(f[11], 10, 64)
	s, _ := strconv.ParseInt(f[12], 10, 64)
	return u + s
}

func status(pid int, key string) string {
	b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, key+":") {
			return strings.Join(strings.Fields(strings.TrimPrefix(l, key+":")), " ")
		}
	}
	return "?"
}
