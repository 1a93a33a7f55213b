package runner

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	authorizationv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/labs-dev/labs/content"
	"github.com/labs-dev/labs/labs"
)

const learnerNS = "k8s101-ana"

// allowAll answers every SelfSubjectAccessReview "allowed", except the
// rights named in deny.
func allowAll(c *fake.Clientset, deny ...string) {
	c.PrependReactor("create", "selfsubjectaccessreviews", func(a k8stesting.Action) (bool, runtime.Object, error) {
		rev := a.(k8stesting.CreateAction).GetObject().(*authorizationv1.SelfSubjectAccessReview)
		at := rev.Spec.ResourceAttributes
		r := Right{Verb: at.Verb, Group: at.Group, Resource: at.Resource, Subresource: at.Subresource}
		rev.Status.Allowed = true
		for _, d := range deny {
			if r.String() == d {
				rev.Status.Allowed = false
			}
		}
		return true, rev, nil
	})
}

// classRunner is a test runner on a class cluster: learner namespace
// learnerNS, progress in a ConfigMap, Docker that fails every call.
func classRunner(t *testing.T, c *fake.Clientset) *Runner {
	t.Helper()
	r, _, _ := newTestRunner(t, c, fakeDocker{err: errors.New("no Docker on a learner's machine")})
	r.Target = NewClassTarget(r, Joined{Class: "k8s101", Learner: "ana", Namespace: learnerNS, Server: "https://class:6443"})
	return r
}

// On a class cluster a lab runs in the learner's namespace (not its own),
// labs makes no namespace and never calls Docker, and progress is a
// ConfigMap there.
func TestClassStartRunsInTheLearnersNamespace(t *testing.T) {
	c := fake.NewSimpleClientset(&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: learnerNS}})
	allowAll(c)
	r := classRunner(t, c)
	ctx := context.Background()
	if err := r.Start(ctx, "demo"); err != nil {
		t.Fatalf("start on a class cluster: %v", err)
	}
	nss, _ := c.CoreV1().Namespaces().List(ctx, metav1.ListOptions{})
	if len(nss.Items) != 1 {
		t.Errorf("namespaces after start = %d, want only the learner's (labs must not create one)", len(nss.Items))
	}
	cm, err := c.CoreV1().ConfigMaps(learnerNS).Get(ctx, ProgressConfigMap, metav1.GetOptions{})
	if err != nil {
		t.Fatalf("progress ConfigMap in %s: %v", learnerNS, err)
	}
	if !strings.HasPrefix(cm.Data["current"], "demo") || !strings.Contains(cm.Data["demo.json"], `"step":0`) {
		t.Errorf("progress ConfigMap = %v, want current demo at step 0", cm.Data)
	}
	if got := r.ns(mustLab(t, r, "demo")); got != learnerNS {
		t.Errorf("lab namespace = %s, want the learner's %s", got, learnerNS)
	}
	if err := r.Hint(ctx); err != nil {
		t.Fatal(err)
	}
	p, err := r.store().Load(ctx, "demo")
	if err != nil || p == nil {
		t.Fatalf("load: %v %v", p, err)
	}
	if n := len(p.History); n < 2 || p.History[n-1].What != "hint" || p.History[0].What != "enter" {
		t.Errorf("history = %+v, want enter ... hint", p.History)
	}
}

func mustLab(t *testing.T, r *Runner, id string) *content.Lab {
	t.Helper()
	lab, err := r.Catalog.Find(id)
	if err != nil {
		t.Fatal(err)
	}
	return lab
}

// A right the learner lacks is named at start, not found after a timeout.
func TestClassStartNamesAMissingRight(t *testing.T) {
	c := fake.NewSimpleClientset(&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: learnerNS}})
	allowAll(c, "create pods/exec")
	r := classRunner(t, c)
	err := r.Start(context.Background(), "demo")
	if err == nil || !strings.Contains(err.Error(), "may not create pods/exec") || !strings.Contains(err.Error(), learnerNS) {
		t.Fatalf("err = %v, want it to name create pods/exec in %s", err, learnerNS)
	}
}

// Labs that need more than one namespace are refused on a class cluster,
// saying why and where they run; commands that need Docker are refused.
func TestClassRefusesWhatNeedsTheWholeCluster(t *testing.T) {
	c := fake.NewSimpleClientset()
	r := classRunner(t, c)
	tg := r.target()
	for _, tc := range []struct {
		scope string
		want  string
	}{
		{content.ScopeNamespace, ""},
		{content.ScopeCluster, "beyond one namespace"},
		{content.ScopeNode, "nodes themselves"},
	} {
		lab := &content.Lab{Meta: content.Meta{ID: "x", Scope: tc.scope}}
		err := tg.Allow(lab)
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("scope %s: refused (%v), want allowed", tc.scope, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "labs join --leave")):
			t.Errorf("scope %s: err = %v, want a refusal saying %q and how to run it elsewhere", tc.scope, err, tc.want)
		}
	}
	for name, run := range map[string]func() error{
		"stop": func() error { return r.Stop(context.Background()) },
		"down": func() error { return r.Down(context.Background()) },
		"node": func() error { return r.NodeMemory(context.Background(), "n", 1) },
	} {
		if err := run(); err == nil || !strings.Contains(err.Error(), "class cluster") {
			t.Errorf("%s on a class cluster: err = %v, want a one-sentence refusal naming the mode", name, err)
		}
	}
}

// Two commands updating progress at once: the one that loses the race
// (409 Conflict) redoes its change on the winner's, so neither is lost.
func TestConfigMapStoreRetriesOnConflict(t *testing.T) {
	ctx := context.Background()
	c := fake.NewSimpleClientset()
	st := ConfigMapStore{Client: func() (kubernetes.Interface, error) { return c, nil }, Namespace: learnerNS}
	if err := st.Save(ctx, "demo", &Progress{Done: []bool{false, false}}); err != nil {
		t.Fatal(err)
	}
	raced := false
	c.PrependReactor("update", "configmaps", func(a k8stesting.Action) (bool, runtime.Object, error) {
		if raced {
			return false, nil, nil
		}
		raced = true
		// Another command writes first: it marks step 2 done.
		cm, _ := c.Tracker().Get(schema.GroupVersionResource{Version: "v1", Resource: "configmaps"}, learnerNS, ProgressConfigMap)
		b := fmt.Sprintf(`{"lab":"demo","step":0,"done":[false,true],"updated":"%s"}`, time.Now().UTC().Format(time.RFC3339))
		cm.(*corev1.ConfigMap).Data["demo.json"] = b
		if err := c.Tracker().Update(schema.GroupVersionResource{Version: "v1", Resource: "configmaps"}, cm, learnerNS); err != nil {
			t.Fatal(err)
		}
		return true, nil, apierrors.NewConflict(schema.GroupResource{Resource: "configmaps"}, ProgressConfigMap, errors.New("the object has been modified"))
	})
	err := st.Update(ctx, "demo", func(cur *Progress) (*Progress, error) {
		cur.Done[0] = true
		return cur, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	p, err := st.Load(ctx, "demo")
	if err != nil {
		t.Fatal(err)
	}
	if !raced || !p.Done[0] || !p.Done[1] {
		t.Fatalf("after a conflict: raced=%v done=%v, want both changes kept [true true]", raced, p.Done)
	}
}

// A damaged progress ConfigMap says so and how to start over.
func TestConfigMapStoreDamaged(t *testing.T) {
	c := fake.NewSimpleClientset(&corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Name: ProgressConfigMap, Namespace: learnerNS},
		Data:       map[string]string{"current": "demo", "demo.json": "{not json"},
	})
	st := ConfigMapStore{Client: func() (kubernetes.Interface, error) { return c, nil }, Namespace: learnerNS}
	_, err := st.Load(context.Background(), "demo")
	if !errors.Is(err, ErrDamaged) || !strings.Contains(err.Error(), "labs reset demo") {
		t.Fatalf("err = %v, want ErrDamaged saying `labs reset demo`", err)
	}
}

func jwt(exp time.Time) string {
	enc := base64.RawURLEncoding.EncodeToString
	return enc([]byte(`{"alg":"RS256"}`)) + "." + enc([]byte(fmt.Sprintf(`{"exp":%d}`, exp.Unix()))) + ".sig"
}

func classKubeconfig(ns, token string) string {
	nsLine := ""
	if ns != "" {
		nsLine = ", namespace: " + ns
	}
	return fmt.Sprintf(`apiVersion: v1
kind: Config
current-context: k8s101
clusters: [{name: k8s101, cluster: {server: "https://class:6443"}}]
contexts: [{name: k8s101, context: {cluster: k8s101, user: ana%s}}]
users: [{name: ana, user: {token: %q}}]
`, nsLine, token)
}

func TestJoin(t *testing.T) {
	for _, tc := range []struct {
		name, ns string
		exp      time.Time
		wantErr  string
	}{
		{name: "valid", ns: learnerNS, exp: time.Now().Add(time.Hour)},
		{name: "expired", ns: learnerNS, exp: time.Now().Add(-time.Minute), wantErr: "expired"},
		{name: "no namespace", exp: time.Now().Add(time.Hour), wantErr: "names no namespace"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			p := Paths{ConfigDir: filepath.Join(dir, "config"), StateDir: filepath.Join(dir, "state")}
			file := filepath.Join(dir, "ana.kubeconfig")
			if err := os.WriteFile(file, []byte(classKubeconfig(tc.ns, jwt(tc.exp))), 0o600); err != nil {
				t.Fatal(err)
			}
			j, err := Join(p, file)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("join: err = %v, want %q", err, tc.wantErr)
				}
				if got, _ := ReadJoined(p); got != nil {
					t.Fatalf("a refused join was recorded: %+v", got)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if j.Namespace != learnerNS || j.Class != "k8s101" || j.Learner != "ana" || j.Expires.Unix() != tc.exp.Unix() {
				t.Errorf("joined = %+v, want namespace %s, class k8s101, learner ana, expires %s", j, learnerNS, tc.exp)
			}
			fi, err := os.Stat(ClassPaths(p).Kubeconfig())
			if err != nil || fi.Mode().Perm() != 0o600 {
				t.Fatalf("class kubeconfig copy: %v %v, want mode 0600", fi, err)
			}
			if got, _ := ReadJoined(p); got == nil || got.Namespace != learnerNS {
				t.Fatalf("ReadJoined = %+v", got)
			}
			if _, err := Leave(p); err != nil {
				t.Fatal(err)
			}
			if got, _ := ReadJoined(p); got != nil {
				t.Fatalf("after leave, still joined: %+v", got)
			}
		})
	}
}

// A lab whose pods need a looser Pod Security level than the class
// enforces is refused at start, saying both levels and the flag to ask for.
func TestClassRefusesALooserPodSecurity(t *testing.T) {
	r := classRunner(t, fake.NewSimpleClientset())
	tg := r.Target.(*ClassTarget)
	for _, tc := range []struct{ class, lab, want string }{
		{"restricted", "restricted", ""},
		{"restricted", "", "need Pod Security baseline, and this class enforces restricted"},
		{"restricted", "privileged", "--pod-security privileged"},
		{"baseline", "", ""},
		{"", "restricted", ""},
		{"", "privileged", "this class enforces baseline"},
	} {
		tg.Joined.PodSecurity = tc.class
		err := tg.Allow(&content.Lab{Meta: content.Meta{ID: "x", Scope: content.ScopeNamespace, PodSecurity: tc.lab}})
		if tc.want == "" && err != nil || tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)) {
			t.Errorf("class %q, lab %q: err = %v, want %q", tc.class, tc.lab, err, tc.want)
		}
	}
}

// The class file carries what class up said (Pod Security, the registry)
// and a joined machine's labs name the image there: text, manifests,
// commands and expressions alike.
func TestClassInfoRewritesTheLabs(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "ana.kubeconfig")
	if err := os.WriteFile(file, []byte(classKubeconfig(learnerNS, jwt(time.Now().Add(time.Hour)))), 0o600); err != nil {
		t.Fatal(err)
	}
	_, cfg, err := ReadClassKubeconfig(file)
	if err != nil {
		t.Fatal(err)
	}
	if err := SetClassInfo(cfg.Contexts[cfg.CurrentContext], ClassInfo{PodSecurity: "restricted", Images: "10.0.0.5:5000/k8s101", ImagesPlainHTTP: true}); err != nil {
		t.Fatal(err)
	}
	if err := clientcmd.WriteToFile(*cfg, file); err != nil {
		t.Fatal(err)
	}
	j, _, err := ReadClassKubeconfig(file)
	if err != nil {
		t.Fatal(err)
	}
	if j.PodSecurity != "restricted" || j.Images != "10.0.0.5:5000/k8s101" || !j.ImagesPlainHTTP {
		t.Fatalf("joined = %+v, want the class info back", j)
	}
	cat, err := LoadCatalogRewriting(j.Registry().Rewrite, Source{Origin: BuiltIn, FS: labs.FS})
	if err != nil {
		t.Fatal(err)
	}
	lab, err := cat.Find("rollouts")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(lab)
	for _, want := range []string{
		`10.0.0.5:5000/k8s101/labapp:v1`,            // the manifest and the prose
		`web=10.0.0.5:5000/k8s101/labapp:v9`,        // the typo the learner types
		`image == '10.0.0.5:5000/k8s101/labapp:v2'`, // a CEL expression
	} {
		if !strings.Contains(string(b), want) {
			t.Errorf("rollouts on the class does not say %s", want)
		}
	}
	if strings.Contains(string(b), `"labapp:v`) || strings.Contains(string(b), ` labapp:v`) {
		t.Errorf("rollouts on the class still names labapp:vN bare")
	}
	if !strings.Contains(string(b), "Server: labapp/v1") && !strings.Contains(string(b), `labapp/v1`) {
		t.Errorf("the Server header labapp/v1 was rewritten")
	}
}
