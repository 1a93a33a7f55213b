// Package class provisions a class on a cluster the instructor already has
// (`labs class up|down|list|reset`): one namespace per learner, confined by
// RBAC, Pod Security, a quota and NetworkPolicies, and a kubeconfig file
// per learner whose token expires with the class. Learners then run the
// namespace-scope labs there with `labs join FILE`, no Docker needed.
package class

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"time"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	watchtools "k8s.io/client-go/tools/watch"

	"github.com/labs-dev/labs/runner"
	"github.com/labs-dev/labs/runner/images"
)

// Labels and names every class object carries, so down finds them all.
const (
	LabelClass   = "labs.dev/class"
	LabelLearner = "labs.dev/learner"
	LabelManaged = "app.kubernetes.io/managed-by"
	// AnnotationExpires is when the class's tokens expire (RFC 3339).
	AnnotationExpires = "labs.dev/expires"
	// LearnerRole is the one ClusterRole every learner is bound to, in
	// their own namespace only (a RoleBinding).
	LearnerRole = "labs-learner"
	// accountsSuffix names the namespace that holds a class's
	// ServiceAccounts, one per learner: not the learner's own namespace,
	// where a pod of theirs could run as it and keep its token (the
	// kubelet refreshes it) past the class's end.
	accountsSuffix = "accounts"
	// MetadataAddress is the cloud metadata service, which a learner's pods
	// must not reach (it hands out the node's cloud credentials).
	MetadataAddress = "169.254.169.254/32"
)

// Budget is what one learner's namespace may use.
type Budget struct {
	Name string
	// Pods, CPU and Memory requests, Memory limits: the quota.
	Pods                                int
	RequestsCPU, RequestsMemory, Memory string
	// Default* fill containers that say nothing (a LimitRange), so that a
	// lab's manifests need no resources to fit the quota.
	DefaultCPU, DefaultMemory, DefaultMemoryLimit string
}

// Budgets are the sizes `--budget` names. small fits the built-in
// namespace labs as measured (docs/class.md).
func Budgets() map[string]Budget {
	return map[string]Budget{
		"small":  {Name: "small", Pods: 16, RequestsCPU: "500m", RequestsMemory: "512Mi", Memory: "1Gi", DefaultCPU: "10m", DefaultMemory: "16Mi", DefaultMemoryLimit: "64Mi"},
		"medium": {Name: "medium", Pods: 30, RequestsCPU: "1", RequestsMemory: "1Gi", Memory: "2Gi", DefaultCPU: "25m", DefaultMemory: "32Mi", DefaultMemoryLimit: "128Mi"},
		"large":  {Name: "large", Pods: 60, RequestsCPU: "2", RequestsMemory: "2Gi", Memory: "4Gi", DefaultCPU: "50m", DefaultMemory: "64Mi", DefaultMemoryLimit: "256Mi"},
	}
}

// Options are `labs class up`'s.
type Options struct {
	Class    string
	Learners int      // learner-01 ... learner-NN
	Names    []string // or these names
	Budget   string
	Expires  time.Duration
	// Dir is where the learners' kubeconfig files are written.
	Dir string
	// Server, if set, replaces the API server address in the learners'
	// files (the instructor's may be 127.0.0.1).
	Server string
	// PodSecurity is the level enforced: baseline (default) or restricted.
	PodSecurity string
	// Registry, if set, is where the cluster's nodes pull the workload
	// image from: up pushes it there and the learners' labs name it there.
	// Unset, the nodes must have it loaded (labs' own kind cluster).
	Registry *images.Registry
}

var dnsLabel = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`)

// Validate checks the options without touching the cluster.
func (o *Options) Validate() error {
	if err := ValidateClass(o.Class); err != nil {
		return err
	}
	if (o.Learners > 0) == (len(o.Names) > 0) {
		return fmt.Errorf("say who the learners are: --learners N or --names FILE (one of them)")
	}
	if o.Learners > 500 {
		return fmt.Errorf("--learners %d: at most 500 per class", o.Learners)
	}
	seen := map[string]bool{}
	for _, n := range o.Names {
		if !dnsLabel.MatchString(n) || len(o.Class)+1+len(n) > 63 {
			return fmt.Errorf("learner name %q cannot name a namespace (%s-%s): use lower-case letters, digits and '-', at most %d characters", n, o.Class, n, 62-len(o.Class))
		}
		if seen[n] {
			return fmt.Errorf("learner name %q is listed twice", n)
		}
		if n == accountsSuffix {
			return fmt.Errorf("learner name %q is taken: %s holds the class's accounts", n, AccountsNamespace(o.Class))
		}
		seen[n] = true
	}
	if _, ok := Budgets()[o.Budget]; !ok {
		return fmt.Errorf("--budget %q: use small, medium or large", o.Budget)
	}
	if o.Expires < 10*time.Minute || o.Expires > 31*24*time.Hour {
		return fmt.Errorf("--expires %s: use between 10m and 744h", o.Expires)
	}
	if o.PodSecurity != "baseline" && o.PodSecurity != "restricted" {
		return fmt.Errorf("--pod-security %q: use baseline or restricted", o.PodSecurity)
	}
	return nil
}

// ReadNames reads a --names file: one learner a line, # comments.
func ReadNames(file string) ([]string, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("reading learner names: %w", err)
	}
	var out []string
	for _, l := range strings.Split(string(b), "\n") {
		l = strings.TrimSpace(l)
		if l == "" || strings.HasPrefix(l, "#") {
			continue
		}
		out = append(out, strings.ToLower(l))
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s names no learner", file)
	}
	return out, nil
}

// names are the learners o asks for.
func (o *Options) names() []string {
	if len(o.Names) > 0 {
		return o.Names
	}
	out := make([]string, o.Learners)
	for i := range out {
		out[i] = fmt.Sprintf("learner-%02d", i+1)
	}
	return out
}

// ValidateClass checks a --class value (down and reset need one).
func ValidateClass(class string) error {
	if !dnsLabel.MatchString(class) || len(class) > 30 {
		return fmt.Errorf("--class %q is not a class name: use up to 30 lower-case letters, digits and '-' (`labs class list` shows the classes)", class)
	}
	return nil
}

// AccountsNamespace holds a class's learner accounts; learners may not
// run pods there.
func AccountsNamespace(class string) string { return class + "-" + accountsSuffix }

// Namespace is a learner's namespace in a class.
func Namespace(class, learner string) string { return class + "-" + learner }

// Learner is one learner of a report.
type Learner struct {
	Name       string    `json:"name"`
	Namespace  string    `json:"namespace"`
	Kubeconfig string    `json:"kubeconfig,omitempty"`
	Expires    time.Time `json:"expires,omitzero"`
	// Added is true when this run made the namespace, false when it was
	// there (up is idempotent).
	Added bool `json:"added"`
	// Lab, Step and Steps: where the learner is (list).
	Lab     string    `json:"lab,omitempty"`
	Step    int       `json:"step,omitempty"`
	Done    int       `json:"done,omitempty"`
	Updated time.Time `json:"updated,omitzero"`
	Hints   int       `json:"hints,omitempty"`
	Solves  int       `json:"solves,omitempty"`
}

// Report is what up and list return.
type Report struct {
	Class    string    `json:"class"`
	Budget   string    `json:"budget,omitempty"`
	Learners []Learner `json:"learners"`
	Seconds  float64   `json:"seconds,omitempty"`
}

// Up makes (or completes) the class: the learner role once, then each
// learner's namespace, account, binding, quota, limits and policies, and
// their kubeconfig file with a fresh token. Running it again adds learners
// and refreshes files; it never duplicates.
func Up(ctx context.Context, c kubernetes.Interface, cfg *rest.Config, o Options, status func(string)) (*Report, error) {
	start := time.Now()
	if err := o.Validate(); err != nil {
		return nil, err
	}
	budget := Budgets()[o.Budget]
	expires := time.Now().Add(o.Expires).UTC().Truncate(time.Second)
	if err := os.MkdirAll(o.Dir, 0o700); err != nil {
		return nil, fmt.Errorf("making %s for the learners' files: %w", o.Dir, err)
	}
	if o.Registry != nil {
		// Before any learner exists: a class whose image cannot be pulled
		// would fail at its first step.
		if err := o.Registry.Push(ctx, func(ref string) { status("pushed " + ref) }); err != nil {
			return nil, err
		}
		if err := o.Registry.Has(ctx); err != nil {
			return nil, fmt.Errorf("the registry took the workload image but does not serve it back: %w", err)
		}
	}
	for _, obj := range []any{learnerRole(), learnerPolicy(), learnerPolicyBinding()} {
		if err := apply(ctx, c, obj); err != nil {
			return nil, explainAdmin(err)
		}
	}
	acc := AccountsNamespace(o.Class)
	accLabels := map[string]string{LabelManaged: "labs", LabelClass: o.Class}
	for _, obj := range []any{
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: acc, Labels: merge(map[string]string{"pod-security.kubernetes.io/enforce": "restricted"}, accLabels)}},
		&corev1.ResourceQuota{ObjectMeta: meta("labs-no-pods", acc, accLabels), Spec: corev1.ResourceQuotaSpec{Hard: corev1.ResourceList{corev1.ResourcePods: resource.MustParse("0")}}},
	} {
		if err := apply(ctx, c, obj); err != nil {
			return nil, explainAdmin(fmt.Errorf("the class's accounts namespace %s: %w", acc, err))
		}
	}
	rep := &Report{Class: o.Class, Budget: budget.Name}
	names := o.names()
	for i, name := range names {
		status(fmt.Sprintf("learner %d/%d: %s", i+1, len(names), name))
		l, err := upLearner(ctx, c, cfg, o, budget, name, expires)
		if err != nil {
			return rep, explainAdmin(fmt.Errorf("learner %s: %w", name, err))
		}
		rep.Learners = append(rep.Learners, l)
	}
	rep.Seconds = time.Since(start).Seconds()
	return rep, nil
}

// nsAnnotations are a learner namespace's: when the class ends, and the
// registry its images come from (the instructor's view reads the labs as
// the learners do).
func nsAnnotations(o Options, expires time.Time) map[string]string {
	a := map[string]string{AnnotationExpires: expires.Format(time.RFC3339)}
	if o.Registry != nil {
		a[AnnotationImages] = o.Registry.Ref
	}
	return a
}

// explainAdmin adds what an instructor's kubeconfig must allow.
func explainAdmin(err error) error {
	if apierrors.IsForbidden(err) {
		return fmt.Errorf("%w: `labs class` needs a kubeconfig that may create namespaces, ClusterRoles, RoleBindings, quotas, NetworkPolicies and ServiceAccount tokens (cluster-admin, as docs/class.md says)", err)
	}
	return err
}

func upLearner(ctx context.Context, c kubernetes.Interface, cfg *rest.Config, o Options, b Budget, name string, expires time.Time) (Learner, error) {
	ns, acc := Namespace(o.Class, name), AccountsNamespace(o.Class)
	labels := map[string]string{LabelManaged: "labs", LabelClass: o.Class, LabelLearner: name}
	l := Learner{Name: name, Namespace: ns, Expires: expires}
	_, err := c.CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(err):
		l.Added = true
	case err != nil:
		return l, err
	}
	nsLabels := map[string]string{
		"pod-security.kubernetes.io/enforce": o.PodSecurity,
		"pod-security.kubernetes.io/warn":    o.PodSecurity,
		"pod-security.kubernetes.io/audit":   "restricted",
	}
	for k, v := range labels {
		nsLabels[k] = v
	}
	objs := []any{
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns, Labels: nsLabels, Annotations: nsAnnotations(o, expires)}},
		&corev1.ServiceAccount{ObjectMeta: meta(name, acc, labels), AutomountServiceAccountToken: ptr(false)},
		&rbacv1.RoleBinding{
			ObjectMeta: meta(LearnerRole, ns, labels),
			RoleRef:    rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "ClusterRole", Name: LearnerRole},
			Subjects:   []rbacv1.Subject{{Kind: "ServiceAccount", Name: name, Namespace: acc}},
		},
		quota(ns, labels, b),
		limits(ns, labels, b),
		isolation(ns, labels),
		egress(ns, labels),
	}
	for _, obj := range objs {
		if err := apply(ctx, c, obj); err != nil {
			return l, err
		}
	}
	secs := int64(time.Until(expires).Seconds())
	tok, err := c.CoreV1().ServiceAccounts(acc).CreateToken(ctx, name, &authenticationv1.TokenRequest{
		Spec: authenticationv1.TokenRequestSpec{ExpirationSeconds: &secs},
	}, metav1.CreateOptions{})
	if err != nil {
		return l, fmt.Errorf("a token for %s: %w", name, err)
	}
	if got := tok.Status.ExpirationTimestamp.Time.UTC(); got.Before(expires.Add(-time.Minute)) {
		// The API server caps token lifetimes (--service-account-max-token-expiration):
		// the namespace says when this learner's really ends.
		l.Expires = got.Truncate(time.Second)
		patch := fmt.Sprintf(`{"metadata":{"annotations":{%q:%q}}}`, AnnotationExpires, l.Expires.Format(time.RFC3339))
		if _, err := c.CoreV1().Namespaces().Patch(ctx, ns, types.MergePatchType, []byte(patch), metav1.PatchOptions{}); err != nil {
			return l, fmt.Errorf("recording when %s's token expires: %w", name, err)
		}
	}
	l.Kubeconfig = filepath.Join(o.Dir, name+".kubeconfig")
	return l, writeKubeconfig(l.Kubeconfig, cfg, o, name, ns, tok.Status.Token)
}

func meta(name, ns string, labels map[string]string) metav1.ObjectMeta {
	return metav1.ObjectMeta{Name: name, Namespace: ns, Labels: labels}
}

// writeKubeconfig writes a learner's file: the cluster, their token, a
// context named after the class whose namespace is theirs.
func writeKubeconfig(path string, cfg *rest.Config, o Options, name, ns, token string) error {
	server := cfg.Host
	if o.Server != "" {
		server = o.Server
	}
	ca := cfg.CAData
	if len(ca) == 0 && cfg.CAFile != "" {
		b, err := os.ReadFile(cfg.CAFile)
		if err != nil {
			return fmt.Errorf("reading the cluster's CA %s: %w", cfg.CAFile, err)
		}
		ca = b
	}
	kc := clientcmdapi.NewConfig()
	kc.Clusters[o.Class] = &clientcmdapi.Cluster{Server: server, CertificateAuthorityData: ca, InsecureSkipTLSVerify: cfg.Insecure}
	kc.AuthInfos[name] = &clientcmdapi.AuthInfo{Token: token}
	kctx := &clientcmdapi.Context{Cluster: o.Class, AuthInfo: name, Namespace: ns}
	info := runner.ClassInfo{PodSecurity: o.PodSecurity}
	if o.Registry != nil {
		info.Images, info.ImagesPlainHTTP = o.Registry.Ref, o.Registry.PlainHTTP
	}
	if err := runner.SetClassInfo(kctx, info); err != nil {
		return err
	}
	kc.Contexts[o.Class] = kctx
	kc.CurrentContext = o.Class
	if err := clientcmd.WriteToFile(*kc, path); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return os.Chmod(path, 0o600)
}

// learnerRole is what a learner may do in their own namespace: run and
// inspect workloads (exec, logs, port-forward), services and configmaps;
// read secrets, accounts, events, quotas and policies. Not RBAC, quotas, limits or
// NetworkPolicies: those are the instructor's fences.
func learnerRole() *rbacv1.ClusterRole {
	all := []string{"get", "list", "watch", "create", "update", "patch", "delete", "deletecollection"}
	read := []string{"get", "list", "watch"}
	return &rbacv1.ClusterRole{
		ObjectMeta: metav1.ObjectMeta{Name: LearnerRole, Labels: map[string]string{LabelManaged: "labs"}},
		Rules: []rbacv1.PolicyRule{
			{APIGroups: []string{""}, Resources: []string{"pods", "services", "configmaps", "persistentvolumeclaims"}, Verbs: all},
			// Read only: a learner who may create Secrets can mint a
			// ServiceAccount token that outlives the class, and one who may
			// delete ServiceAccounts can lock themselves out.
			{APIGroups: []string{""}, Resources: []string{"secrets", "serviceaccounts"}, Verbs: read},
			// Read only: hand-made Endpoints and Ingresses can point a
			// shared ingress controller at other learners' pods or hosts.
			{APIGroups: []string{""}, Resources: []string{"endpoints"}, Verbs: read},
			{APIGroups: []string{""}, Resources: []string{"pods/log", "pods/status"}, Verbs: read},
			{APIGroups: []string{""}, Resources: []string{"pods/exec", "pods/portforward", "pods/attach", "pods/eviction"}, Verbs: []string{"get", "create"}},
			// http checks reach the learner's Services and pods through the
			// API server's proxy.
			{APIGroups: []string{""}, Resources: []string{"services/proxy", "pods/proxy"}, Verbs: []string{"get", "create"}},
			{APIGroups: []string{""}, Resources: []string{"events", "resourcequotas", "limitranges"}, Verbs: read},
			{APIGroups: []string{"apps"}, Resources: []string{"deployments", "replicasets", "statefulsets", "daemonsets", "deployments/scale", "replicasets/scale", "statefulsets/scale"}, Verbs: all},
			{APIGroups: []string{"apps"}, Resources: []string{"controllerrevisions", "deployments/status"}, Verbs: read},
			{APIGroups: []string{"batch"}, Resources: []string{"jobs", "cronjobs"}, Verbs: all},
			{APIGroups: []string{"autoscaling"}, Resources: []string{"horizontalpodautoscalers"}, Verbs: all},
			{APIGroups: []string{"policy"}, Resources: []string{"poddisruptionbudgets"}, Verbs: all},
			{APIGroups: []string{"networking.k8s.io"}, Resources: []string{"ingresses", "networkpolicies"}, Verbs: read},
			{APIGroups: []string{"discovery.k8s.io"}, Resources: []string{"endpointslices"}, Verbs: read},
			{APIGroups: []string{"events.k8s.io"}, Resources: []string{"events"}, Verbs: read},
		},
	}
}

// LearnerPolicy refuses what RBAC cannot: a learner's Service with
// externalIPs would capture that address's traffic on every node
// (CVE-2020-8554), so one learner could cut the cluster off.
const LearnerPolicy = "labs-learner-limits"

func learnerPolicy() *admissionregistrationv1.ValidatingAdmissionPolicy {
	fail := admissionregistrationv1.Fail
	return &admissionregistrationv1.ValidatingAdmissionPolicy{
		ObjectMeta: metav1.ObjectMeta{Name: LearnerPolicy, Labels: map[string]string{LabelManaged: "labs"}},
		Spec: admissionregistrationv1.ValidatingAdmissionPolicySpec{
			FailurePolicy: &fail,
			MatchConstraints: &admissionregistrationv1.MatchResources{ResourceRules: []admissionregistrationv1.NamedRuleWithOperations{{
				RuleWithOperations: admissionregistrationv1.RuleWithOperations{
					Operations: []admissionregistrationv1.OperationType{admissionregistrationv1.Create, admissionregistrationv1.Update},
					Rule:       admissionregistrationv1.Rule{APIGroups: []string{""}, APIVersions: []string{"v1"}, Resources: []string{"services"}},
				},
			}}},
			Validations: []admissionregistrationv1.Validation{{
				Expression: "!has(object.spec.externalIPs) || size(object.spec.externalIPs) == 0",
				Message:    "a learner's Service may not set externalIPs: they would capture that address's traffic on every node",
			}},
		},
	}
}

// learnerPolicyBinding applies the policy in every learner's namespace.
func learnerPolicyBinding() *admissionregistrationv1.ValidatingAdmissionPolicyBinding {
	return &admissionregistrationv1.ValidatingAdmissionPolicyBinding{
		ObjectMeta: metav1.ObjectMeta{Name: LearnerPolicy, Labels: map[string]string{LabelManaged: "labs"}},
		Spec: admissionregistrationv1.ValidatingAdmissionPolicyBindingSpec{
			PolicyName:        LearnerPolicy,
			ValidationActions: []admissionregistrationv1.ValidationAction{admissionregistrationv1.Deny},
			MatchResources: &admissionregistrationv1.MatchResources{NamespaceSelector: &metav1.LabelSelector{
				MatchExpressions: []metav1.LabelSelectorRequirement{{Key: LabelLearner, Operator: metav1.LabelSelectorOpExists}},
			}},
		},
	}
}

func quota(ns string, labels map[string]string, b Budget) *corev1.ResourceQuota {
	return &corev1.ResourceQuota{
		ObjectMeta: meta("labs-budget", ns, labels),
		Spec: corev1.ResourceQuotaSpec{Hard: corev1.ResourceList{
			corev1.ResourcePods:           resource.MustParse(fmt.Sprint(b.Pods)),
			corev1.ResourceRequestsCPU:    resource.MustParse(b.RequestsCPU),
			corev1.ResourceRequestsMemory: resource.MustParse(b.RequestsMemory),
			corev1.ResourceLimitsMemory:   resource.MustParse(b.Memory),
			"count/services":              resource.MustParse("10"),
			"count/configmaps":            resource.MustParse("30"),
			"services.loadbalancers":      resource.MustParse("0"),
			"services.nodeports":          resource.MustParse("0"),
			"persistentvolumeclaims":      resource.MustParse("0"),
		}},
	}
}

func limits(ns string, labels map[string]string, b Budget) *corev1.LimitRange {
	return &corev1.LimitRange{
		ObjectMeta: meta("labs-defaults", ns, labels),
		Spec: corev1.LimitRangeSpec{Limits: []corev1.LimitRangeItem{{
			Type:           corev1.LimitTypeContainer,
			DefaultRequest: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse(b.DefaultCPU), corev1.ResourceMemory: resource.MustParse(b.DefaultMemory)},
			Default:        corev1.ResourceList{corev1.ResourceMemory: resource.MustParse(b.DefaultMemoryLimit)},
		}}},
	}
}

// isolation lets into the learner's pods only traffic from their own
// namespace: other learners cannot reach them.
func isolation(ns string, labels map[string]string) *networkingv1.NetworkPolicy {
	return &networkingv1.NetworkPolicy{
		ObjectMeta: meta("labs-isolate", ns, labels),
		Spec: networkingv1.NetworkPolicySpec{
			PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeIngress},
			Ingress:     []networkingv1.NetworkPolicyIngressRule{{From: []networkingv1.NetworkPolicyPeer{{PodSelector: &metav1.LabelSelector{}}}}},
		},
	}
}

// egress lets the learner's pods reach anything but the cloud metadata
// service; DNS is named so that a CNI that judges pod IPs apart from
// ipBlocks still resolves names.
func egress(ns string, labels map[string]string) *networkingv1.NetworkPolicy {
	udp, tcp := corev1.ProtocolUDP, corev1.ProtocolTCP
	dns := intstr.FromInt32(53)
	return &networkingv1.NetworkPolicy{
		ObjectMeta: meta("labs-egress", ns, labels),
		Spec: networkingv1.NetworkPolicySpec{
			PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeEgress},
			Egress: []networkingv1.NetworkPolicyEgressRule{
				{To: []networkingv1.NetworkPolicyPeer{{IPBlock: &networkingv1.IPBlock{CIDR: "0.0.0.0/0", Except: []string{MetadataAddress}}}}},
				{To: []networkingv1.NetworkPolicyPeer{{PodSelector: &metav1.LabelSelector{}}}},
				{To: []networkingv1.NetworkPolicyPeer{{NamespaceSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"kubernetes.io/metadata.name": "kube-system"}}}},
					Ports: []networkingv1.NetworkPolicyPort{{Protocol: &udp, Port: &dns}, {Protocol: &tcp, Port: &dns}}},
			},
		},
	}
}

// apply creates obj or, when it exists, updates it to what labs wants.
func apply(ctx context.Context, c kubernetes.Interface, obj any) error {
	var err error
	switch o := obj.(type) {
	case *rbacv1.ClusterRole:
		err = upsert(ctx, c.RbacV1().ClusterRoles(), o, o.Name, func(cur, want *rbacv1.ClusterRole) { cur.Rules = want.Rules })
	case *admissionregistrationv1.ValidatingAdmissionPolicy:
		err = upsert(ctx, c.AdmissionregistrationV1().ValidatingAdmissionPolicies(), o, o.Name,
			func(cur, want *admissionregistrationv1.ValidatingAdmissionPolicy) { cur.Spec = want.Spec })
	case *admissionregistrationv1.ValidatingAdmissionPolicyBinding:
		err = upsert(ctx, c.AdmissionregistrationV1().ValidatingAdmissionPolicyBindings(), o, o.Name,
			func(cur, want *admissionregistrationv1.ValidatingAdmissionPolicyBinding) { cur.Spec = want.Spec })
	case *corev1.Namespace:
		err = applyNamespace(ctx, c, o)
	case *corev1.ServiceAccount:
		// Kept as it is: its tokens are bound to it.
		err = upsert(ctx, c.CoreV1().ServiceAccounts(o.Namespace), o, o.Name, func(cur, want *corev1.ServiceAccount) {})
	case *rbacv1.RoleBinding:
		err = upsert(ctx, c.RbacV1().RoleBindings(o.Namespace), o, o.Name, func(cur, want *rbacv1.RoleBinding) {
			cur.RoleRef, cur.Subjects = want.RoleRef, want.Subjects
		})
	case *corev1.ResourceQuota:
		err = upsert(ctx, c.CoreV1().ResourceQuotas(o.Namespace), o, o.Name, func(cur, want *corev1.ResourceQuota) { cur.Spec = want.Spec })
	case *corev1.LimitRange:
		err = upsert(ctx, c.CoreV1().LimitRanges(o.Namespace), o, o.Name, func(cur, want *corev1.LimitRange) { cur.Spec = want.Spec })
	case *networkingv1.NetworkPolicy:
		err = upsert(ctx, c.NetworkingV1().NetworkPolicies(o.Namespace), o, o.Name, func(cur, want *networkingv1.NetworkPolicy) { cur.Spec = want.Spec })
	default:
		return fmt.Errorf("apply: %T is not a class object", obj)
	}
	if err != nil {
		return fmt.Errorf("applying %T: %w", obj, err)
	}
	return nil
}

// typedAPI is what client-go's typed clients offer for one kind.
type typedAPI[T any] interface {
	Create(context.Context, T, metav1.CreateOptions) (T, error)
	Get(context.Context, string, metav1.GetOptions) (T, error)
	Update(context.Context, T, metav1.UpdateOptions) (T, error)
}

// upsert creates want or, when it exists, updates what labs owns of it
// (set copies that from want onto the current object).
func upsert[T any](ctx context.Context, api typedAPI[T], want T, name string, set func(cur, want T)) error {
	_, err := api.Create(ctx, want, metav1.CreateOptions{})
	if !apierrors.IsAlreadyExists(err) {
		return err
	}
	cur, err := api.Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return err
	}
	set(cur, want)
	_, err = api.Update(ctx, cur, metav1.UpdateOptions{})
	return err
}

// applyNamespace makes a class namespace or brings its labels up to date;
// it never takes a namespace that is not the class's.
func applyNamespace(ctx context.Context, c kubernetes.Interface, o *corev1.Namespace) error {
	_, err := c.CoreV1().Namespaces().Create(ctx, o, metav1.CreateOptions{})
	if !apierrors.IsAlreadyExists(err) {
		return err
	}
	cur, err := c.CoreV1().Namespaces().Get(ctx, o.Name, metav1.GetOptions{})
	if err != nil {
		return err
	}
	if cur.DeletionTimestamp != nil {
		return fmt.Errorf("namespace %s is still being deleted (labs class down?): wait a moment and run up again", o.Name)
	}
	if cur.Labels[LabelClass] != o.Labels[LabelClass] {
		return fmt.Errorf("namespace %s exists and is not class %s's: pick another --class", o.Name, o.Labels[LabelClass])
	}
	cur.Labels, cur.Annotations = merge(cur.Labels, o.Labels), merge(cur.Annotations, o.Annotations)
	_, err = c.CoreV1().Namespaces().Update(ctx, cur, metav1.UpdateOptions{})
	return err
}

func merge(dst, src map[string]string) map[string]string {
	if dst == nil {
		dst = map[string]string{}
	}
	for k, v := range src {
		dst[k] = v
	}
	return dst
}

// selector selects a class's namespaces ("" for every class).
func selector(class string) string {
	if class == "" {
		return LabelClass
	}
	return LabelClass + "=" + class
}

// List reports a class's learners and where each one is, from the
// progress each learner's labs writes into their namespace.
func List(ctx context.Context, c kubernetes.Interface, class string) (*Report, error) {
	nss, err := c.CoreV1().Namespaces().List(ctx, metav1.ListOptions{LabelSelector: selector(class)})
	if err != nil {
		return nil, explainAdmin(fmt.Errorf("listing class %s: %w", class, err))
	}
	rep := &Report{Class: class, Learners: []Learner{}}
	for _, ns := range nss.Items {
		if ns.Labels[LabelLearner] == "" {
			continue // the class's accounts
		}
		l := Learner{Name: ns.Labels[LabelLearner], Namespace: ns.Name}
		if t, err := time.Parse(time.RFC3339, ns.Annotations[AnnotationExpires]); err == nil {
			l.Expires = t
		}
		if cm, err := c.CoreV1().ConfigMaps(ns.Name).Get(ctx, runner.ProgressConfigMap, metav1.GetOptions{}); err == nil {
			readProgress(cm, &l)
		}
		rep.Learners = append(rep.Learners, l)
	}
	sort.Slice(rep.Learners, func(i, j int) bool { return rep.Learners[i].Namespace < rep.Learners[j].Namespace })
	return rep, nil
}

// readProgress fills where a learner is from their progress ConfigMap.
func readProgress(cm *corev1.ConfigMap, l *Learner) {
	lab, _, _ := strings.Cut(strings.TrimSpace(cm.Data["current"]), "\n")
	if lab == "" {
		return
	}
	var p runner.Progress
	if json.Unmarshal([]byte(cm.Data[lab+".json"]), &p) != nil {
		return
	}
	l.Lab, l.Step, l.Done, l.Updated = lab, p.Step+1, p.DoneCount(), p.Updated
	for _, h := range p.History {
		switch h.What {
		case "hint":
			l.Hints++
		case "solve":
			l.Solves++
		}
	}
}

// Down deletes every namespace of the class (and the learner role when no
// class is left), waiting until they are gone.
func Down(ctx context.Context, c kubernetes.Interface, class string, wait time.Duration, status func(string)) ([]string, error) {
	if err := ValidateClass(class); err != nil {
		return nil, err // never "" (every class)
	}
	nss, err := c.CoreV1().Namespaces().List(ctx, metav1.ListOptions{LabelSelector: selector(class)})
	if err != nil {
		return nil, explainAdmin(fmt.Errorf("listing class %s: %w", class, err))
	}
	var gone []string
	for _, ns := range nss.Items {
		if err := c.CoreV1().Namespaces().Delete(ctx, ns.Name, metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
			return gone, explainAdmin(fmt.Errorf("deleting namespace %s: %w", ns.Name, err))
		}
		gone = append(gone, ns.Name)
	}
	status(fmt.Sprintf("deleting %d namespaces of class %s", len(gone), class))
	if left, err := waitGone(ctx, c, selector(class), wait); err != nil {
		if ctx.Err() != nil {
			return gone, ctx.Err()
		}
		return gone, fmt.Errorf("expected class %s's namespaces gone within %s; %d still terminating (their pods stop first): run `labs class down` again later", class, wait, left)
	}
	others, err := c.CoreV1().Namespaces().List(ctx, metav1.ListOptions{LabelSelector: LabelClass, Limit: 1})
	if err == nil && len(others.Items) == 0 {
		for what, del := range map[string]func() error{
			"ClusterRole " + LearnerRole: func() error { return c.RbacV1().ClusterRoles().Delete(ctx, LearnerRole, metav1.DeleteOptions{}) },
			"ValidatingAdmissionPolicyBinding " + LearnerPolicy: func() error {
				return c.AdmissionregistrationV1().ValidatingAdmissionPolicyBindings().Delete(ctx, LearnerPolicy, metav1.DeleteOptions{})
			},
			"ValidatingAdmissionPolicy " + LearnerPolicy: func() error {
				return c.AdmissionregistrationV1().ValidatingAdmissionPolicies().Delete(ctx, LearnerPolicy, metav1.DeleteOptions{})
			},
		} {
			if err := del(); err != nil && !apierrors.IsNotFound(err) {
				return gone, fmt.Errorf("deleting %s: %w", what, err)
			}
		}
	}
	return gone, nil
}

// waitGone watches the namespaces that sel selects until none is left,
// at most wait; left is how many were still there at the end.
func waitGone(ctx context.Context, c kubernetes.Interface, sel string, wait time.Duration) (left int, err error) {
	ctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	lw := &cache.ListWatch{
		ListFunc: func(o metav1.ListOptions) (runtime.Object, error) {
			o.LabelSelector = sel
			return c.CoreV1().Namespaces().List(ctx, o)
		},
		WatchFunc: func(o metav1.ListOptions) (watch.Interface, error) {
			o.LabelSelector = sel
			return c.CoreV1().Namespaces().Watch(ctx, o)
		},
	}
	var store cache.Store
	empty := func() (bool, error) { left = len(store.List()); return left == 0, nil }
	_, err = watchtools.UntilWithSync(ctx, lw, &corev1.Namespace{}, func(s cache.Store) (bool, error) { store = s; return empty() },
		func(watch.Event) (bool, error) { return empty() })
	return left, err
}

// Reset empties one learner's namespace and forgets their progress: the
// fences (quota, policies, account) stay, so their file keeps working.
func Reset(ctx context.Context, c kubernetes.Interface, class, learner string) error {
	if err := ValidateClass(class); err != nil {
		return err
	}
	ns := Namespace(class, learner)
	got, err := c.CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{})
	if apierrors.IsNotFound(err) || (err == nil && got.Labels[LabelClass] != class) {
		return fmt.Errorf("class %s has no learner %s (no namespace %s): `labs class list --class %s` lists them", class, learner, ns, class)
	}
	if err != nil {
		return explainAdmin(err)
	}
	if err := runner.EmptyNamespace(ctx, c, ns, 2*time.Minute); err != nil {
		return err
	}
	err = c.CoreV1().ConfigMaps(ns).Delete(ctx, runner.ProgressConfigMap, metav1.DeleteOptions{})
	if err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("deleting %s's progress: %w", learner, err)
	}
	return nil
}

func ptr[T any](v T) *T { return &v }
