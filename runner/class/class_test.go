package class

import (
	"context"
	"io"
	"log"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/registry"
	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/fake"
	"k8s.io/client-go/rest"
	k8stesting "k8s.io/client-go/testing"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/labs-dev/labs/runner"
	"github.com/labs-dev/labs/runner/images"
)

// fakeCluster is a fake clientset that hands out ServiceAccount tokens.
func fakeCluster() *fake.Clientset {
	c := fake.NewSimpleClientset()
	n := 0
	c.PrependReactor("create", "serviceaccounts", func(a k8stesting.Action) (bool, runtime.Object, error) {
		if a.GetSubresource() != "token" {
			return false, nil, nil
		}
		n++
		tr := a.(k8stesting.CreateAction).GetObject().(*authenticationv1.TokenRequest)
		tr.Status.Token = "token-" + a.GetNamespace() + "-" + string(rune('0'+n%10))
		tr.Status.ExpirationTimestamp = metav1.NewTime(time.Now().Add(time.Duration(*tr.Spec.ExpirationSeconds) * time.Second))
		return true, tr, nil
	})
	return c
}

func upOptions(dir string) Options {
	return Options{Class: "k8s101", Learners: 3, Budget: "small", Expires: 8 * time.Hour, Dir: dir, PodSecurity: "baseline"}
}

var cfg = &rest.Config{Host: "https://127.0.0.1:6443", TLSClientConfig: rest.TLSClientConfig{CAData: []byte("CA")}}

// up makes each learner's fences and a kubeconfig for their namespace;
// run again it adds learners and duplicates nothing.
func TestUpIsIdempotent(t *testing.T) {
	ctx := context.Background()
	c := fakeCluster()
	dir := t.TempDir()
	rep, err := Up(ctx, c, cfg, upOptions(dir), func(string) {})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Learners) != 3 || !rep.Learners[0].Added || rep.Learners[2].Namespace != "k8s101-learner-03" {
		t.Fatalf("first up = %+v, want 3 new learners k8s101-learner-01..03", rep.Learners)
	}
	ns, err := c.CoreV1().Namespaces().Get(ctx, "k8s101-learner-02", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for k, want := range map[string]string{LabelClass: "k8s101", LabelLearner: "learner-02", "pod-security.kubernetes.io/enforce": "baseline"} {
		if ns.Labels[k] != want {
			t.Errorf("namespace label %s = %q, want %q", k, ns.Labels[k], want)
		}
	}
	for what, get := range map[string]func() error{
		"role binding": func() error {
			_, err := c.RbacV1().RoleBindings(ns.Name).Get(ctx, LearnerRole, metav1.GetOptions{})
			return err
		},
		"quota": func() error {
			_, err := c.CoreV1().ResourceQuotas(ns.Name).Get(ctx, "labs-budget", metav1.GetOptions{})
			return err
		},
		"limit range": func() error {
			_, err := c.CoreV1().LimitRanges(ns.Name).Get(ctx, "labs-defaults", metav1.GetOptions{})
			return err
		},
		"isolation": func() error {
			_, err := c.NetworkingV1().NetworkPolicies(ns.Name).Get(ctx, "labs-isolate", metav1.GetOptions{})
			return err
		},
		"egress": func() error {
			_, err := c.NetworkingV1().NetworkPolicies(ns.Name).Get(ctx, "labs-egress", metav1.GetOptions{})
			return err
		},
		"account": func() error {
			_, err := c.CoreV1().ServiceAccounts(AccountsNamespace("k8s101")).Get(ctx, "learner-02", metav1.GetOptions{})
			return err
		},
		"externalIPs policy": func() error {
			if _, err := c.AdmissionregistrationV1().ValidatingAdmissionPolicyBindings().Get(ctx, LearnerPolicy, metav1.GetOptions{}); err != nil {
				return err
			}
			_, err := c.AdmissionregistrationV1().ValidatingAdmissionPolicies().Get(ctx, LearnerPolicy, metav1.GetOptions{})
			return err
		},
		"learner role": func() error {
			_, err := c.RbacV1().ClusterRoles().Get(ctx, LearnerRole, metav1.GetOptions{})
			return err
		},
	} {
		if err := get(); err != nil {
			t.Errorf("%s: %v", what, err)
		}
	}
	kc, err := clientcmd.LoadFromFile(filepath.Join(dir, "learner-02.kubeconfig"))
	if err != nil {
		t.Fatal(err)
	}
	kctx := kc.Contexts[kc.CurrentContext]
	if kctx == nil || kctx.Namespace != "k8s101-learner-02" || !strings.HasPrefix(kc.AuthInfos[kctx.AuthInfo].Token, "token-k8s101-accounts") || kc.Clusters[kctx.Cluster].Server != cfg.Host {
		t.Fatalf("learner-02's kubeconfig = %+v, want its namespace, its token and the server", kctx)
	}
	if fi, _ := os.Stat(filepath.Join(dir, "learner-02.kubeconfig")); fi.Mode().Perm() != 0o600 {
		t.Errorf("kubeconfig mode = %v, want 0600", fi.Mode().Perm())
	}

	o := upOptions(dir)
	o.Learners = 4
	rep, err = Up(ctx, c, cfg, o, func(string) {})
	if err != nil {
		t.Fatal(err)
	}
	added := 0
	for _, l := range rep.Learners {
		if l.Added {
			added++
		}
	}
	nss, _ := c.CoreV1().Namespaces().List(ctx, metav1.ListOptions{LabelSelector: LabelLearner})
	if added != 1 || len(nss.Items) != 4 {
		t.Fatalf("second up: %d added, %d learner namespaces; want 1 added, 4 in all", added, len(nss.Items))
	}
	// A learner's pods cannot run as their account: it lives elsewhere.
	rb, _ := c.RbacV1().RoleBindings("k8s101-learner-01").Get(ctx, LearnerRole, metav1.GetOptions{})
	if sub := rb.Subjects[0]; sub.Namespace != AccountsNamespace("k8s101") || sub.Name != "learner-01" {
		t.Errorf("role binding subject = %+v, want learner-01 in %s", sub, AccountsNamespace("k8s101"))
	}
	nps, _ := c.NetworkingV1().NetworkPolicies("k8s101-learner-01").List(ctx, metav1.ListOptions{})
	if len(nps.Items) != 2 {
		t.Errorf("network policies after two ups = %d, want 2", len(nps.Items))
	}
}

// A namespace of the same name that is not the class's is never taken.
func TestUpRefusesAForeignNamespace(t *testing.T) {
	c := fakeCluster()
	_, _ = c.CoreV1().Namespaces().Create(context.Background(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "k8s101-learner-01"}}, metav1.CreateOptions{})
	_, err := Up(context.Background(), c, cfg, upOptions(t.TempDir()), func(string) {})
	if err == nil || !strings.Contains(err.Error(), "not class k8s101's") {
		t.Fatalf("err = %v, want a refusal to take a namespace that is not the class's", err)
	}
}

func TestValidate(t *testing.T) {
	for _, tc := range []struct {
		name string
		edit func(*Options)
		want string
	}{
		{"ok", func(*Options) {}, ""},
		{"bad class", func(o *Options) { o.Class = "K8S_101" }, "not a class name"},
		{"no learners", func(o *Options) { o.Learners = 0 }, "--learners N or --names FILE"},
		{"both", func(o *Options) { o.Names = []string{"ana"} }, "--learners N or --names FILE"},
		{"bad name", func(o *Options) { o.Learners, o.Names = 0, []string{"Ana Lee"} }, "cannot name a namespace"},
		{"twice", func(o *Options) { o.Learners, o.Names = 0, []string{"ana", "ana"} }, "listed twice"},
		{"budget", func(o *Options) { o.Budget = "huge" }, "small, medium or large"},
		{"expires", func(o *Options) { o.Expires = time.Minute }, "between 10m"},
		{"pod security", func(o *Options) { o.PodSecurity = "privileged" }, "baseline or restricted"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := upOptions("d")
			tc.edit(&o)
			err := o.Validate()
			if (tc.want == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tc.want)) {
				t.Fatalf("Validate(%+v) = %v, want %q", o, err, tc.want)
			}
		})
	}
}

// list reads where each learner is from their progress ConfigMap.
func TestListReadsProgress(t *testing.T) {
	ctx := context.Background()
	c := fakeCluster()
	if _, err := Up(ctx, c, cfg, upOptions(t.TempDir()), func(string) {}); err != nil {
		t.Fatal(err)
	}
	_, _ = c.CoreV1().ConfigMaps("k8s101-learner-01").Create(ctx, &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Name: runner.ProgressConfigMap, Namespace: "k8s101-learner-01"},
		Data:       map[string]string{"current": "selfhealing\n", "selfhealing.json": `{"step":2,"done":[true,true,false],"history":[{"what":"hint"},{"what":"solve"},{"what":"hint"}]}`},
	}, metav1.CreateOptions{})
	rep, err := List(ctx, c, "k8s101")
	if err != nil {
		t.Fatal(err)
	}
	l := rep.Learners[0]
	if len(rep.Learners) != 3 || l.Lab != "selfhealing" || l.Step != 3 || l.Done != 2 || l.Hints != 2 || l.Solves != 1 {
		t.Fatalf("list = %+v, want learner-01 on selfhealing step 3, 2 done, 2 hints, 1 solve", rep.Learners)
	}
	if rep.Learners[1].Lab != "" {
		t.Errorf("learner-02 never started, list says %+v", rep.Learners[1])
	}
}

// down deletes the class's namespaces and, when no class is left, the
// cluster-wide objects up made; another class keeps them.
func TestDown(t *testing.T) {
	ctx := context.Background()
	c := fakeCluster()
	for _, class := range []string{"a", "b"} {
		o := upOptions(t.TempDir())
		o.Class = class
		if _, err := Up(ctx, c, cfg, o, func(string) {}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := Down(ctx, c, "", time.Second, func(string) {}); err == nil {
		t.Fatal(`down --class "" was accepted: it would take every class down`)
	}
	gone, err := Down(ctx, c, "a", time.Second, func(string) {})
	if err != nil {
		t.Fatal(err)
	}
	if len(gone) != 4 { // 3 learners and the accounts
		t.Errorf("down a deleted %v, want 4 namespaces", gone)
	}
	if _, err := c.RbacV1().ClusterRoles().Get(ctx, LearnerRole, metav1.GetOptions{}); err != nil {
		t.Errorf("class b still runs, but the learner role is gone: %v", err)
	}
	if _, err := Down(ctx, c, "b", time.Second, func(string) {}); err != nil {
		t.Fatal(err)
	}
	left, _ := c.CoreV1().Namespaces().List(ctx, metav1.ListOptions{LabelSelector: LabelClass})
	_, roleErr := c.RbacV1().ClusterRoles().Get(ctx, LearnerRole, metav1.GetOptions{})
	_, policyErr := c.AdmissionregistrationV1().ValidatingAdmissionPolicies().Get(ctx, LearnerPolicy, metav1.GetOptions{})
	if len(left.Items) != 0 || roleErr == nil || policyErr == nil {
		t.Errorf("after the last class: %d namespaces, role err %v, policy err %v; want none left", len(left.Items), roleErr, policyErr)
	}
}

// With a registry, up pushes the workload image there before any learner
// exists, and every learner's file says where it is and what Pod Security
// the class enforces; a registry that is down fails up before it starts.
func TestUpPushesToTheRegistry(t *testing.T) {
	srv := httptest.NewServer(registry.New(registry.Logger(log.New(io.Discard, "", 0))))
	defer srv.Close()
	reg, err := images.ParseRegistry(strings.TrimPrefix(srv.URL, "http://") + "/k8s101")
	if err != nil {
		t.Fatal(err)
	}
	reg.PlainHTTP = true
	ctx := context.Background()
	dir := t.TempDir()
	o := upOptions(dir)
	o.PodSecurity, o.Registry = "restricted", &reg
	var said []string
	if _, err := Up(ctx, fakeCluster(), cfg, o, func(s string) { said = append(said, s) }); err != nil {
		t.Fatal(err)
	}
	if err := reg.Has(ctx); err != nil {
		t.Fatalf("after up, the registry lacks the image: %v", err)
	}
	if !strings.Contains(strings.Join(said, "\n"), "pushed "+reg.Image("v1")) {
		t.Errorf("up said %q, want the pushes shown", said)
	}
	j, _, err := runner.ReadClassKubeconfig(filepath.Join(dir, "learner-01.kubeconfig"))
	if err != nil {
		t.Fatal(err)
	}
	if j.Images != reg.Ref || !j.ImagesPlainHTTP || j.PodSecurity != "restricted" {
		t.Errorf("learner-01 joined = %+v, want images %s over HTTP, restricted", j.ClassInfo, reg.Ref)
	}

	down := reg
	down.Ref = "127.0.0.1:1/k8s101"
	o.Registry = &down
	c := fakeCluster()
	if _, err := Up(ctx, c, cfg, o, func(string) {}); err == nil || !strings.Contains(err.Error(), "does not answer") {
		t.Fatalf("up with a registry that is down: err = %v", err)
	}
	if nss, _ := c.CoreV1().Namespaces().List(ctx, metav1.ListOptions{}); len(nss.Items) != 0 {
		t.Errorf("a failed push left %d namespaces", len(nss.Items))
	}
}
