package runner

import (
	"context"
	"fmt"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// studentAccount is the service account a submission acts as.
const studentAccount = "labs-student"

// restrictKubeconfig rewrites the kubeconfig at path to act as a service
// account that may do anything in ns (the built-in "admin" role: not the
// namespace itself, not other namespaces) and read the nodes, or also
// cordon them when the lab changes nodes. undo deletes the cluster-wide
// role it made; the namespace's objects go with the namespace.
func restrictKubeconfig(ctx context.Context, c kubernetes.Interface, path, ns string, nodesWrite bool, lifetime time.Duration) (undo func(context.Context) error, err error) {
	clusterRole := "labs-student-" + ns // cluster-scoped: one per grading namespace
	undo = func(ctx context.Context) error {
		for _, del := range []func() error{
			func() error { return c.RbacV1().ClusterRoleBindings().Delete(ctx, clusterRole, metav1.DeleteOptions{}) },
			func() error { return c.RbacV1().ClusterRoles().Delete(ctx, clusterRole, metav1.DeleteOptions{}) },
		} {
			if err := del(); err != nil && !apierrors.IsNotFound(err) {
				return fmt.Errorf("deleting the grading role %s: %w", clusterRole, err)
			}
		}
		return nil
	}
	sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: studentAccount, Namespace: ns}}
	if _, err := c.CoreV1().ServiceAccounts(ns).Create(ctx, sa, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		return undo, err
	}
	subject := []rbacv1.Subject{{Kind: "ServiceAccount", Name: studentAccount, Namespace: ns}}
	rb := &rbacv1.RoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: studentAccount + "-admin", Namespace: ns},
		RoleRef:    rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "ClusterRole", Name: "admin"},
		Subjects:   subject,
	}
	if _, err := c.RbacV1().RoleBindings(ns).Create(ctx, rb, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		return undo, err
	}
	verbs := []string{"get", "list", "watch"}
	if nodesWrite {
		verbs = append(verbs, "patch", "update")
	}
	cr := &rbacv1.ClusterRole{
		ObjectMeta: metav1.ObjectMeta{Name: clusterRole, Labels: map[string]string{"app.kubernetes.io/managed-by": "labs"}},
		Rules:      []rbacv1.PolicyRule{{APIGroups: []string{""}, Resources: []string{"nodes"}, Verbs: verbs}},
	}
	if _, err := c.RbacV1().ClusterRoles().Create(ctx, cr, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		return undo, err
	}
	crb := &rbacv1.ClusterRoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: clusterRole, Labels: cr.Labels},
		RoleRef:    rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "ClusterRole", Name: clusterRole},
		Subjects:   subject,
	}
	if _, err := c.RbacV1().ClusterRoleBindings().Create(ctx, crb, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		return undo, err
	}
	secs := int64(lifetime.Seconds())
	tok, err := c.CoreV1().ServiceAccounts(ns).CreateToken(ctx, studentAccount, &authenticationv1.TokenRequest{Spec: authenticationv1.TokenRequestSpec{ExpirationSeconds: &secs}}, metav1.CreateOptions{})
	if err != nil {
		return undo, fmt.Errorf("a token for %s: %w", studentAccount, err)
	}
	cfg, err := clientcmd.LoadFromFile(path)
	if err != nil {
		return undo, err
	}
	kctx, ok := cfg.Contexts[cfg.CurrentContext]
	if !ok {
		return undo, fmt.Errorf("kubeconfig %s has no current context", path)
	}
	cfg.AuthInfos = map[string]*clientcmdapi.AuthInfo{studentAccount: {Token: tok.Status.Token}}
	cfg.Contexts = map[string]*clientcmdapi.Context{"student": {Cluster: kctx.Cluster, AuthInfo: studentAccount, Namespace: ns}}
	cfg.CurrentContext = "student"
	if err := clientcmd.WriteToFile(*cfg, path); err != nil {
		return undo, err
	}
	return undo, nil
}
