package lint

import (
	"cmp"
	"fmt"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	psaapi "k8s.io/pod-security-admission/api"
	"k8s.io/pod-security-admission/policy"
)

// podSecurityRefuses says why Pod Security admission at level would refuse
// the pods obj makes ("" when it would admit them, or obj makes none): the
// API server's own checks, run here so `labs lint` says it at the line.
func podSecurityRefuses(obj runtime.Object, level string) (string, error) {
	meta, spec := podTemplateOf(obj)
	if spec == nil {
		return "", nil
	}
	lvl, err := psaapi.ParseLevel(cmp.Or(level, "baseline"))
	if err != nil {
		return "", err
	}
	ev, err := policy.NewEvaluator(policy.DefaultChecks())
	if err != nil {
		return "", err
	}
	res := policy.AggregateCheckResults(ev.EvaluatePod(psaapi.LevelVersion{Level: lvl, Version: psaapi.LatestVersion()}, meta, spec))
	if res.Allowed {
		return "", nil
	}
	var parts []string
	for i, r := range res.ForbiddenReasons {
		if d := res.ForbiddenDetails[i]; d != "" {
			r += " (" + d + ")"
		}
		parts = append(parts, r)
	}
	return strings.Join(parts, "; "), nil
}

// podTemplateOf is the pod spec a workload object runs, nil for others.
func podTemplateOf(obj runtime.Object) (*metav1.ObjectMeta, *corev1.PodSpec) {
	switch o := obj.(type) {
	case *corev1.Pod:
		return &o.ObjectMeta, &o.Spec
	case *corev1.ReplicationController:
		if o.Spec.Template != nil {
			return &o.Spec.Template.ObjectMeta, &o.Spec.Template.Spec
		}
	case *corev1.PodTemplate:
		return &o.Template.ObjectMeta, &o.Template.Spec
	case *appsv1.Deployment:
		return &o.Spec.Template.ObjectMeta, &o.Spec.Template.Spec
	case *appsv1.ReplicaSet:
		return &o.Spec.Template.ObjectMeta, &o.Spec.Template.Spec
	case *appsv1.StatefulSet:
		return &o.Spec.Template.ObjectMeta, &o.Spec.Template.Spec
	case *appsv1.DaemonSet:
		return &o.Spec.Template.ObjectMeta, &o.Spec.Template.Spec
	case *batchv1.Job:
		return &o.Spec.Template.ObjectMeta, &o.Spec.Template.Spec
	case *batchv1.CronJob:
		return &o.Spec.JobTemplate.Spec.Template.ObjectMeta, &o.Spec.JobTemplate.Spec.Template.Spec
	}
	return nil, nil
}

// podSecurityLevelFix is what to write for each level's refusal.
func podSecurityLevelFix(level string) string {
	if level == "restricted" {
		return "give every container securityContext {runAsNonRoot: true, allowPrivilegeEscalation: false, capabilities: {drop: [ALL]}, seccompProfile: {type: RuntimeDefault}} (the workload image runs as a non-root user), or declare a looser podSecurity in the front matter"
	}
	return fmt.Sprintf("declare podSecurity: %s in the front matter if the lab needs it (a class then needs that level too)", map[string]string{"baseline": "privileged"}[level])
}
