package runner

import (
	"cmp"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	authorizationv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	watchtools "k8s.io/client-go/tools/watch"

	"github.com/labs-dev/labs/content"
	"github.com/labs-dev/labs/runner/images"
)

// Joined is this machine's membership of a class (`labs join FILE`): the
// learner's kubeconfig is copied beside it, and every command then runs on
// the class cluster, in the learner's namespace.
type Joined struct {
	Class     string    `json:"class"`
	Learner   string    `json:"learner"`
	Namespace string    `json:"namespace"`
	Server    string    `json:"server"`
	Expires   time.Time `json:"expires,omitzero"`
	// From is the file the learner joined with.
	From string `json:"from"`
	ClassInfo
}

// ClassInfo is what `labs class up` tells every learner's labs about the
// class, carried in the kubeconfig file (a context extension), so joining
// needs no request and the file is all a learner is given.
type ClassInfo struct {
	// PodSecurity is the level the learner's namespace enforces: a lab
	// that needs more is refused at start, not by a pod that never runs.
	PodSecurity string `json:"podSecurity,omitempty"`
	// Images is the registry the class's nodes pull the workload image
	// from (host[:port][/path]); labs' content names it there. "" when the
	// nodes have it loaded (a kind cluster of labs' own).
	Images string `json:"images,omitempty"`
	// ImagesPlainHTTP: the registry speaks HTTP (doctor asks it so).
	ImagesPlainHTTP bool `json:"imagesPlainHTTP,omitempty"`
}

// ClassExtension names the kubeconfig context extension holding ClassInfo.
const ClassExtension = "labs.dev/class"

// SetClassInfo records info in a learner's kubeconfig context.
func SetClassInfo(kctx *clientcmdapi.Context, info ClassInfo) error {
	b, err := json.Marshal(info)
	if err != nil {
		return err
	}
	if kctx.Extensions == nil {
		kctx.Extensions = map[string]runtime.Object{}
	}
	kctx.Extensions[ClassExtension] = &runtime.Unknown{Raw: b, ContentType: runtime.ContentTypeJSON}
	return nil
}

// classInfo reads ClassInfo from a kubeconfig context (none: a file made
// by hand, or before labs wrote one; the defaults then apply).
func classInfo(kctx *clientcmdapi.Context) (ClassInfo, error) {
	var info ClassInfo
	u, ok := kctx.Extensions[ClassExtension].(*runtime.Unknown)
	if !ok || len(u.Raw) == 0 {
		return info, nil
	}
	if err := json.Unmarshal(u.Raw, &info); err != nil {
		return info, fmt.Errorf("its %s extension: %w", ClassExtension, err)
	}
	return info, nil
}

// Registry is where the class's nodes pull the workload image from, if
// not loaded into them.
func (j Joined) Registry() images.Registry {
	return images.Registry{Ref: j.Images, PlainHTTP: j.ImagesPlainHTTP}
}

// joinedFile is where the membership is recorded, under the paths of the
// kind target (so `labs join --leave` finds it).
func joinedFile(p Paths) string { return filepath.Join(p.ConfigDir, "joined.json") }

// ClassPaths are where a joined machine keeps its files: apart from the
// kind cluster's, which a join never touches.
func ClassPaths(p Paths) Paths {
	return Paths{ConfigDir: filepath.Join(p.ConfigDir, "class"), StateDir: filepath.Join(p.StateDir, "class")}
}

// ReadJoined returns the class this machine joined, nil if none.
func ReadJoined(p Paths) (*Joined, error) {
	b, err := os.ReadFile(joinedFile(p))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var j Joined
	if err := json.Unmarshal(b, &j); err != nil || j.Namespace == "" {
		return nil, fmt.Errorf("the class membership %s is damaged (%v): `labs join --leave`, then `labs join FILE` again", joinedFile(p), err)
	}
	return &j, nil
}

// Join reads a learner's kubeconfig (from `labs class up`), copies it
// under labs' own config dir (mode 0600) and records the membership: from
// now on every labs command runs in the learner's namespace of the class
// cluster. The file is checked first: a current context with a namespace
// and a token that has not expired.
func Join(p Paths, file string) (*Joined, error) {
	j, cfg, err := ReadClassKubeconfig(file)
	if err != nil {
		return nil, err
	}
	cp := ClassPaths(p)
	if err := os.MkdirAll(cp.ConfigDir, 0o700); err != nil {
		return nil, err
	}
	if err := clientcmd.WriteToFile(*cfg, cp.Kubeconfig()); err != nil {
		return nil, fmt.Errorf("copying the class kubeconfig: %w", err)
	}
	if err := os.Chmod(cp.Kubeconfig(), 0o600); err != nil {
		return nil, err
	}
	b, _ := json.MarshalIndent(j, "", "  ")
	if err := writeAtomic(joinedFile(p), b); err != nil {
		return nil, err
	}
	return j, nil
}

// ReadClassKubeconfig reads and checks a learner's kubeconfig: a current
// context with a namespace, a token that has not expired.
func ReadClassKubeconfig(file string) (*Joined, *clientcmdapi.Config, error) {
	cfg, err := clientcmd.LoadFromFile(file)
	if err != nil {
		return nil, nil, fmt.Errorf("reading the class kubeconfig %s: %w", file, err)
	}
	kctx, ok := cfg.Contexts[cfg.CurrentContext]
	if !ok {
		return nil, nil, fmt.Errorf("the class kubeconfig %s has no current context: use the file your instructor gave you (`labs class up` writes one per learner)", file)
	}
	if kctx.Namespace == "" {
		return nil, nil, fmt.Errorf("the class kubeconfig %s names no namespace in its context %q: labs runs a class's labs in the learner's own namespace; use the file `labs class up` wrote for you", file, cfg.CurrentContext)
	}
	j := &Joined{Class: kctx.Cluster, Namespace: kctx.Namespace, Learner: kctx.AuthInfo}
	if j.ClassInfo, err = classInfo(kctx); err != nil {
		return nil, nil, fmt.Errorf("the class kubeconfig %s: %w: use the file `labs class up` wrote for you", file, err)
	}
	if cl, ok := cfg.Clusters[kctx.Cluster]; ok {
		j.Server = cl.Server
	}
	if ai, ok := cfg.AuthInfos[kctx.AuthInfo]; ok {
		j.Expires = tokenExpiry(ai.Token)
	}
	if !j.Expires.IsZero() && time.Now().After(j.Expires) {
		return nil, nil, fmt.Errorf("the token in %s expired at %s: ask your instructor for a new file (`labs class up` again writes fresh ones)", file, j.Expires.Local().Format(time.DateTime))
	}
	if j.From, err = filepath.Abs(file); err != nil {
		return nil, nil, err
	}
	return j, cfg, nil
}

// Leave forgets the class: labs runs on this machine's kind cluster again.
// The learner's progress stays on the class cluster.
func Leave(p Paths) (*Joined, error) {
	j, err := ReadJoined(p)
	if j == nil && err == nil {
		return nil, nil
	}
	if j == nil {
		j = &Joined{Class: "(damaged record)"} // leaving must work even then
	}
	for _, f := range []string{joinedFile(p), ClassPaths(p).Kubeconfig()} {
		if err := os.Remove(f); err != nil && !errors.Is(err, os.ErrNotExist) {
			return nil, err
		}
	}
	return j, nil
}

// tokenExpiry reads the exp claim of a ServiceAccount token (a JWT)
// without verifying it: only to tell the learner in time; the API server
// judges. Zero when it cannot be read.
func tokenExpiry(token string) time.Time {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return time.Time{}
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return time.Time{}
	}
	var claims struct {
		Exp int64 `json:"exp"`
	}
	if json.Unmarshal(b, &claims) != nil || claims.Exp == 0 {
		return time.Time{}
	}
	return time.Unix(claims.Exp, 0)
}

// ClassTarget runs labs in the learner's namespace of a class cluster.
type ClassTarget struct {
	r      *Runner
	Joined Joined
}

// NewClassTarget is the class target of r for the membership j.
func NewClassTarget(r *Runner, j Joined) *ClassTarget { return &ClassTarget{r: r, Joined: j} }

func (t *ClassTarget) Mode() string { return "class" }

// Namespace: every lab runs in the learner's one namespace.
func (t *ClassTarget) Namespace(*content.Lab) string { return t.Joined.Namespace }

// Facts: the nodes are not the learner's to name.
func (t *ClassTarget) Facts() map[string]string { return map[string]string{} }

// Allow refuses a lab that needs more than one namespace.
func (t *ClassTarget) Allow(lab *content.Lab) error {
	if lab.Scope == content.ScopeNamespace || lab.Scope == "" {
		return t.allowPodSecurity(lab)
	}
	why := "it changes or reads the cluster beyond one namespace (nodes, other namespaces)"
	if lab.Scope == content.ScopeNode {
		why = "it reaches into the nodes themselves (their processes, cgroups, memory)"
	}
	return fmt.Errorf("lab %s cannot run on a class cluster: %s (scope: %s), and here you have namespace %s only; run it on your own machine's cluster (`labs join --leave`, then `labs start %s`)", lab.ID, why, lab.Scope, t.Joined.Namespace, lab.ID)
}

// allowPodSecurity refuses a lab whose pods need a looser Pod Security
// level than the class's namespace enforces: they would never start.
func (t *ClassTarget) allowPodSecurity(lab *content.Lab) error {
	need, have := cmp.Or(lab.PodSecurity, "baseline"), cmp.Or(t.Joined.PodSecurity, "baseline")
	if podSecurityRank(need) <= podSecurityRank(have) {
		return nil
	}
	return fmt.Errorf("lab %s cannot run in your namespace %s: its pods need Pod Security %s, and this class enforces %s (Kubernetes would refuse them); ask your instructor for a class made with `labs class up --pod-security %s`, or run the lab on your own machine's cluster", lab.ID, t.Joined.Namespace, need, have, need)
}

// podSecurityRank orders the Pod Security Standards from the strictest.
func podSecurityRank(level string) int {
	switch level {
	case "restricted":
		return 0
	case "baseline":
		return 1
	}
	return 2
}

// Images: the class's registry, when its nodes pull the workload from one.
func (t *ClassTarget) Images() images.Registry { return t.Joined.Registry() }

// Ensure checks that the class cluster answers, that the token is still
// valid, and that the learner may do what labs needs in their namespace:
// a missing right fails now, naming it, not after a check's timeout.
func (t *ClassTarget) Ensure(ctx context.Context) (kubernetes.Interface, error) {
	if !t.Joined.Expires.IsZero() && time.Now().After(t.Joined.Expires) {
		return nil, fmt.Errorf("your class token expired at %s: ask your instructor for a new kubeconfig, then `labs join FILE`", t.Joined.Expires.Local().Format(time.DateTime))
	}
	c, err := t.r.client()
	if err != nil {
		return nil, err
	}
	missing, err := MissingRights(ctx, c, t.Joined.Namespace, LearnerNeeds)
	if err != nil {
		return nil, t.explainFailure(ctx, c, err)
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("in namespace %s you may not %s: labs needs these to run a lab; ask your instructor to run `labs class up` again (it grants them)", t.Joined.Namespace, strings.Join(missing, ", "))
	}
	t.r.Display.Done(fmt.Sprintf("class %s: namespace %s on %s", t.Joined.Class, t.Joined.Namespace, t.Joined.Server))
	return c, nil
}

// probe asks the class cluster one authenticated question: a token it
// refuses (401) is said as such, not as a cluster that does not answer.
func (t *ClassTarget) probe(ctx context.Context, c kubernetes.Interface) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	_, err := Can(ctx, c, t.Joined.Namespace, Right{Verb: "get", Resource: "pods"})
	if err == nil {
		return nil
	}
	return t.explainFailure(ctx, c, err)
}

// explainFailure says why a request to the class cluster failed: a token
// it refuses, a cluster that does not answer, or the request's own error.
func (t *ClassTarget) explainFailure(ctx context.Context, c kubernetes.Interface, err error) error {
	if apierrors.IsUnauthorized(err) {
		return errTokenRefused
	}
	if rerr := t.r.apiReady(ctx, c, 10*time.Second); rerr != nil {
		return fmt.Errorf("the class cluster %s does not answer (%v): check your network, or ask your instructor", t.Joined.Server, rerr)
	}
	return err
}

// errTokenRefused is the sentence a learner needs when the class cluster
// refuses their token.
var errTokenRefused = errors.New("the class cluster refused your token (401 Unauthorized): it expired or the class was taken down; ask your instructor for a new kubeconfig, then `labs join FILE`")

// explainAuth turns a refused token into the sentence a learner needs.
func explainAuth(err error) error {
	if apierrors.IsUnauthorized(err) {
		return errTokenRefused
	}
	return err
}

// Right is one verb on one resource, as RBAC names them.
type Right struct {
	Verb, Group, Resource, Subresource string
}

func (r Right) String() string {
	res := r.Resource
	if r.Subresource != "" {
		res += "/" + r.Subresource
	}
	if r.Group != "" {
		res += "." + r.Group
	}
	return r.Verb + " " + res
}

// LearnerNeeds are the rights a namespace-scope lab uses: its workloads,
// their pods, logs and exec, services, configmaps (progress too), events.
var LearnerNeeds = []Right{
	{Verb: "create", Group: "apps", Resource: "deployments"},
	{Verb: "watch", Group: "apps", Resource: "deployments"},
	{Verb: "delete", Resource: "pods"},
	{Verb: "watch", Resource: "pods"},
	{Verb: "get", Resource: "pods", Subresource: "log"},
	{Verb: "create", Resource: "pods", Subresource: "exec"},
	{Verb: "get", Resource: "services", Subresource: "proxy"},
	{Verb: "create", Resource: "services"},
	{Verb: "update", Resource: "configmaps"},
	{Verb: "watch", Resource: "events"},
}

// MissingRights asks the API server (SelfSubjectAccessReview) which of
// rights the caller lacks in ns.
func MissingRights(ctx context.Context, c kubernetes.Interface, ns string, rights []Right) ([]string, error) {
	_, lack, err := sortRights(ctx, c, ns, rights)
	return lack, err
}

// sortRights splits rights into those the caller has in ns and those it
// lacks, as the API server says.
func sortRights(ctx context.Context, c kubernetes.Interface, ns string, rights []Right) (have, lack []string, err error) {
	for _, r := range rights {
		ok, err := Can(ctx, c, ns, r)
		if err != nil {
			return nil, nil, err
		}
		if ok {
			have = append(have, r.String())
		} else {
			lack = append(lack, r.String())
		}
	}
	return have, lack, nil
}

// Can asks the API server whether the caller has right r in ns ("" for
// a cluster-scoped resource).
func Can(ctx context.Context, c kubernetes.Interface, ns string, r Right) (bool, error) {
	rev, err := c.AuthorizationV1().SelfSubjectAccessReviews().Create(ctx, &authorizationv1.SelfSubjectAccessReview{
		Spec: authorizationv1.SelfSubjectAccessReviewSpec{ResourceAttributes: &authorizationv1.ResourceAttributes{
			Namespace: ns, Verb: r.Verb, Group: r.Group, Resource: r.Resource, Subresource: r.Subresource,
		}},
	}, metav1.CreateOptions{})
	if err != nil {
		return false, fmt.Errorf("asking the API server whether you may %s: %w", r, err)
	}
	return rev.Status.Allowed, nil
}

// Prepare: the namespace is the instructor's to make; labs checks it is
// there. It never held the lab "freshly": progress says where the learner is.
func (t *ClassTarget) Prepare(ctx context.Context, c kubernetes.Interface, ns string) (bool, error) {
	if _, err := c.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{Limit: 1}); err != nil {
		if apierrors.IsNotFound(err) {
			return false, fmt.Errorf("your namespace %s is not on the class cluster (the class was taken down?): ask your instructor", ns)
		}
		return false, explainAuth(fmt.Errorf("reading namespace %s: %w", ns, err))
	}
	return false, nil
}

// Wipe deletes what labs and the learner made in the namespace, keeping
// what the instructor set up (quota, limits, policies, the learner's
// account) and the progress; then waits for the pods to go.
func (t *ClassTarget) Wipe(ctx context.Context, c kubernetes.Interface, ns string) error {
	return EmptyNamespace(ctx, c, ns, wipeWait)
}

func (t *ClassTarget) Store() ProgressStore {
	return ConfigMapStore{Client: t.r.client, Namespace: t.Joined.Namespace}
}

// EmptyNamespace deletes the objects a lab makes in ns (workloads, pods,
// services, configmaps but labs' own and the cluster's; a learner may not
// make Secrets) and
// waits, at most wait, until no pod is left.
func EmptyNamespace(ctx context.Context, c kubernetes.Interface, ns string, wait time.Duration) error {
	all := metav1.ListOptions{}
	del := metav1.DeleteOptions{}
	bg := metav1.DeletePropagationBackground
	del.PropagationPolicy = &bg
	steps := []struct {
		what string
		fn   func() error
	}{
		{"deployments", func() error { return c.AppsV1().Deployments(ns).DeleteCollection(ctx, del, all) }},
		{"statefulsets", func() error { return c.AppsV1().StatefulSets(ns).DeleteCollection(ctx, del, all) }},
		{"daemonsets", func() error { return c.AppsV1().DaemonSets(ns).DeleteCollection(ctx, del, all) }},
		{"replicasets", func() error { return c.AppsV1().ReplicaSets(ns).DeleteCollection(ctx, del, all) }},
		{"cronjobs", func() error { return c.BatchV1().CronJobs(ns).DeleteCollection(ctx, del, all) }},
		{"jobs", func() error { return c.BatchV1().Jobs(ns).DeleteCollection(ctx, del, all) }},
		{"horizontalpodautoscalers", func() error {
			return c.AutoscalingV2().HorizontalPodAutoscalers(ns).DeleteCollection(ctx, del, all)
		}},
		{"poddisruptionbudgets", func() error { return c.PolicyV1().PodDisruptionBudgets(ns).DeleteCollection(ctx, del, all) }},
		{"pods", func() error { return c.CoreV1().Pods(ns).DeleteCollection(ctx, del, all) }},
		{"persistentvolumeclaims", func() error {
			return c.CoreV1().PersistentVolumeClaims(ns).DeleteCollection(ctx, del, all)
		}},
		{"services", func() error { return deleteServices(ctx, c, ns) }},
		{"configmaps", func() error {
			return c.CoreV1().ConfigMaps(ns).DeleteCollection(ctx, del, metav1.ListOptions{
				FieldSelector: "metadata.name!=" + ProgressConfigMap + ",metadata.name!=kube-root-ca.crt",
			})
		}},
	}
	for _, s := range steps {
		if err := s.fn(); err != nil && !apierrors.IsNotFound(err) {
			return fmt.Errorf("deleting the %s of namespace %s: %w", s.what, ns, err)
		}
	}
	return waitNoPods(ctx, c, ns, wait)
}

// deleteServices deletes each Service (Services have no delete collection).
func deleteServices(ctx context.Context, c kubernetes.Interface, ns string) error {
	l, err := c.CoreV1().Services(ns).List(ctx, metav1.ListOptions{})
	if err != nil {
		return err
	}
	for _, s := range l.Items {
		if err := c.CoreV1().Services(ns).Delete(ctx, s.Name, metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
			return err
		}
	}
	return nil
}

// waitNoPods watches ns until it has no pod.
func waitNoPods(ctx context.Context, c kubernetes.Interface, ns string, wait time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	lw := &cache.ListWatch{
		ListFunc:  func(o metav1.ListOptions) (runtime.Object, error) { return c.CoreV1().Pods(ns).List(ctx, o) },
		WatchFunc: func(o metav1.ListOptions) (watch.Interface, error) { return c.CoreV1().Pods(ns).Watch(ctx, o) },
	}
	var store cache.Store
	var left []string
	empty := func() (bool, error) {
		left = left[:0]
		for _, o := range store.List() {
			left = append(left, o.(*corev1.Pod).Name)
		}
		return len(left) == 0, nil
	}
	_, err := watchtools.UntilWithSync(ctx, lw, &corev1.Pod{}, func(s cache.Store) (bool, error) { store = s; return empty() },
		func(watch.Event) (bool, error) { return empty() })
	if err != nil {
		sort.Strings(left)
		return fmt.Errorf("expected no pods left in namespace %s within %s; found %s (still terminating): try again in a moment", ns, wait, strings.Join(left, ", "))
	}
	return nil
}

// LearnerMayNot are rights a learner must lack: doctor reports any that
// is granted (a class fence is open), and the cluster suite asserts them.
var LearnerMayNot = []Right{
	{Verb: "list", Resource: "nodes"},
	{Verb: "create", Group: "rbac.authorization.k8s.io", Resource: "clusterroles"},
	{Verb: "create", Group: "rbac.authorization.k8s.io", Resource: "rolebindings"},
	{Verb: "update", Resource: "resourcequotas"},
	{Verb: "delete", Group: "networking.k8s.io", Resource: "networkpolicies"},
	{Verb: "create", Resource: "namespaces"},
}

// diagnoseImages asks the class's registry, from this machine, for every
// tag of the workload image (the nodes pull from the same place; labs
// cannot ask them). Without a registry the nodes must have it loaded.
func diagnoseImages(ctx context.Context, j Joined) Diagnosis {
	if j.Images == "" {
		return Diagnosis{Name: "images", Status: DiagOK, Detail: "the class's nodes have the workload image loaded (no registry in your class file); labs cannot ask the nodes from here"}
	}
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	reg := j.Registry()
	if err := reg.Has(ctx); err != nil {
		return Diagnosis{Name: "images", Status: DiagFail, Detail: fmt.Sprintf("the class's registry %s: %v", j.Images, err), Fix: "tell your instructor: `labs class up --registry` pushes the images again; if your network cannot reach the registry, the nodes may still (labs start tells)"}
	}
	return Diagnosis{Name: "images", Status: DiagOK, Detail: fmt.Sprintf("%s serves %s", j.Images, strings.Join(images.Tags(), ", "))}
}

// diagnoseClass is `labs doctor` on a class cluster: the API server, the
// token's lifetime, what the learner may and may not do, the quota.
func (r *Runner) diagnoseClass(ctx context.Context, t *ClassTarget) DoctorReport {
	var rep DoctorReport
	add := func(d Diagnosis) { rep.Checks = append(rep.Checks, d) }
	ns := t.Joined.Namespace
	c, err := r.client()
	if err == nil {
		err = t.probe(ctx, c)
	}
	if err != nil {
		add(Diagnosis{Name: "class", Status: DiagFail, Detail: fmt.Sprintf("class %s at %s: %v", t.Joined.Class, t.Joined.Server, err), Fix: "check your network (the class's address must be reachable from here) or ask your instructor for a new kubeconfig"})
		return rep
	}
	add(Diagnosis{Name: "class", Status: DiagOK, Detail: fmt.Sprintf("class %s at %s answers; your namespace is %s", t.Joined.Class, t.Joined.Server, ns)})
	tok := Diagnosis{Name: "token", Status: DiagOK, Detail: "no expiry in the token"}
	if exp := t.Joined.Expires; !exp.IsZero() {
		left := time.Until(exp).Round(time.Minute)
		tok.Detail = fmt.Sprintf("valid until %s (%s left)", exp.Local().Format(time.DateTime), left)
		switch {
		case left <= 0:
			tok.Status, tok.Detail, tok.Fix = DiagFail, fmt.Sprintf("expired at %s", exp.Local().Format(time.DateTime)), "ask your instructor for a new kubeconfig, then `labs join FILE`"
		case left < time.Hour:
			tok.Status, tok.Fix = DiagWarn, "ask your instructor for a fresh file before it runs out"
		}
	}
	add(tok)
	rights := Diagnosis{Name: "rights", Status: DiagOK}
	may, missing, err := sortRights(ctx, c, ns, LearnerNeeds)
	if err != nil {
		add(Diagnosis{Name: "rights", Status: DiagFail, Detail: explainAuth(err).Error(), Fix: "ask your instructor"})
		return rep
	}
	granted, _, err := sortRights(ctx, c, ns, LearnerMayNot)
	if err != nil {
		granted = []string{"(could not ask: " + err.Error() + ")"}
	}
	rights.Detail = fmt.Sprintf("in %s you may %s", ns, strings.Join(may, ", "))
	if len(missing) > 0 {
		rights.Status, rights.Fix = DiagFail, "ask your instructor to run `labs class up` again (it grants these)"
		rights.Detail += "; you may NOT " + strings.Join(missing, ", ")
	}
	if len(granted) > 0 && rights.Status == DiagOK {
		rights.Status, rights.Fix = DiagWarn, "tell your instructor: a learner's account should not have these"
		rights.Detail += "; and beyond a learner's needs: " + strings.Join(granted, ", ")
	}
	add(rights)
	q := Diagnosis{Name: "quota", Status: DiagOK, Detail: "no quota in " + ns}
	if quotas, err := c.CoreV1().ResourceQuotas(ns).List(ctx, metav1.ListOptions{}); err == nil && len(quotas.Items) > 0 {
		var parts []string
		for _, qt := range quotas.Items {
			names := make([]string, 0, len(qt.Status.Hard))
			for name := range qt.Status.Hard {
				names = append(names, string(name))
			}
			sort.Strings(names)
			for _, name := range names {
				used := qt.Status.Used[corev1.ResourceName(name)]
				hard := qt.Status.Hard[corev1.ResourceName(name)]
				parts = append(parts, fmt.Sprintf("%s %s/%s", name, used.String(), hard.String()))
				if hard.Sign() > 0 && used.Cmp(hard) >= 0 {
					q.Status, q.Fix = DiagWarn, "a full quota refuses new pods: delete what earlier labs left (`labs reset`)"
				}
			}
		}
		q.Detail = "used/allowed: " + strings.Join(parts, ", ")
	}
	add(q)
	add(diagnoseImages(ctx, t.Joined))
	rep.OK = true
	for _, d := range rep.Checks {
		if d.Status == DiagFail {
			rep.OK = false
		}
	}
	return rep
}
