// Command checkbench measures how fast a check decides: from the moment a
// change is sent to the API server to the moment the engine's verdict turns
// to pass, for the object and events check types, on a running lab cluster
// (`labs start` first; LABS_CLUSTER_NAME picks another). It works in a
// namespace of its own and deletes it. Prints p50, p95 and max.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"sort"
	"strconv"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/restmapper"

	"github.com/labs-dev/labs/checks"
	"github.com/labs-dev/labs/hack/internal/labcluster"
)

func main() {
	n := flag.Int("n", 20, "changes per check type")
	flag.Parse()
	if err := run(*n); err != nil {
		fmt.Fprintln(os.Stderr, "checkbench:", err)
		os.Exit(1)
	}
}

func run(n int) error {
	cfg, err := labcluster.Config()
	if err != nil {
		return err
	}
	c, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return err
	}
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return err
	}
	disc, err := discovery.NewDiscoveryClientForConfig(cfg)
	if err != nil {
		return err
	}
	ctx := context.Background()
	ns := fmt.Sprintf("labs-checkbench-%d", time.Now().Unix()%100000)
	if _, err := c.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
		return fmt.Errorf("creating namespace %s: %w", ns, err)
	}
	defer c.CoreV1().Namespaces().Delete(context.WithoutCancel(ctx), ns, metav1.DeleteOptions{})
	eng := &checks.Engine{Dynamic: dyn, Mapper: restmapper.NewDeferredDiscoveryRESTMapper(memory.NewMemCacheClient(disc)), Namespace: ns}

	fmt.Printf("decision latency: from a change sent to the API server to the check's pass (%d changes each)\n\n", n)
	fmt.Printf("%-8s %8s %8s %8s\n", "check", "p50 ms", "p95 ms", "max ms")
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "bench", Namespace: ns}, Data: map[string]string{"round": "0"}}
	if _, err := c.CoreV1().ConfigMaps(ns).Create(ctx, cm, metav1.CreateOptions{}); err != nil {
		return err
	}
	object, err := measure(ctx, eng, n, func(i int) string {
		return fmt.Sprintf("{type: object, kind: ConfigMap, name: bench, match: {data: {round: '%d'}}}", i)
	}, func(i int) error {
		cm.Data["round"] = strconv.Itoa(i)
		_, err := c.CoreV1().ConfigMaps(ns).Update(ctx, cm, metav1.UpdateOptions{})
		return err
	})
	if err != nil {
		return err
	}
	report("object", object)
	events, err := measure(ctx, eng, n, func(i int) string {
		return fmt.Sprintf("{type: events, reason: Bench%d, kind: ConfigMap, name: bench}", i)
	}, func(i int) error {
		ev := &corev1.Event{
			ObjectMeta:     metav1.ObjectMeta{GenerateName: "bench-", Namespace: ns},
			InvolvedObject: corev1.ObjectReference{Kind: "ConfigMap", Name: "bench", Namespace: ns},
			Reason:         fmt.Sprintf("Bench%d", i), Message: "checkbench", Type: corev1.EventTypeNormal,
			FirstTimestamp: metav1.Now(), LastTimestamp: metav1.Now(), Count: 1,
			Source: corev1.EventSource{Component: "checkbench"},
		}
		_, err := c.CoreV1().Events(ns).Create(ctx, ev, metav1.CreateOptions{})
		return err
	})
	if err != nil {
		return err
	}
	report("events", events)
	return nil
}

// measure runs a waiting check per change: once its informers have synced
// and it has judged the old state (failing), the change is sent; the time
// to its pass is one sample.
func measure(ctx context.Context, eng *checks.Engine, n int, spec func(int) string, change func(int) error) ([]time.Duration, error) {
	var out []time.Duration
	for i := 1; i <= n; i++ {
		specs, err := checks.ParseSpecs([]byte("- " + spec(i)))
		if err != nil {
			return nil, err
		}
		base, err := eng.TakeBaseline(ctx, specs)
		if err != nil {
			return nil, err
		}
		passed := make(chan time.Time, 1)
		done := make(chan error, 1)
		go func() {
			res, err := eng.Run(ctx, specs, checks.Options{Wait: true, Baseline: base, Timeout: 30 * time.Second,
				OnResult: func(r checks.Result) { passed <- time.Now() }})
			if err == nil && !res[0].Passed {
				err = fmt.Errorf("change %d: %s", i, res[0].Sentence())
			}
			done <- err
		}()
		time.Sleep(500 * time.Millisecond) // informers synced, old state judged
		sent := time.Now()
		if err := change(i); err != nil {
			return nil, err
		}
		at := <-passed
		if err := <-done; err != nil {
			return nil, err
		}
		out = append(out, at.Sub(sent))
	}
	return out, nil
}

func report(name string, d []time.Duration) {
	sort.Slice(d, func(i, j int) bool { return d[i] < d[j] })
	q := func(p float64) float64 {
		i := int(float64(len(d))*p+0.5) - 1
		i = max(0, min(i, len(d)-1))
		return float64(d[i]) / float64(time.Millisecond)
	}
	fmt.Printf("%-8s %8.1f %8.1f %8.1f\n", name, q(0.50), q(0.95), float64(d[len(d)-1])/float64(time.Millisecond))
}
