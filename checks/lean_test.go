package checks

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/tools/cache"
)

// Cached objects lose their managed fields and nothing else; what is not
// an object (a tombstone) passes unchanged.
func TestDropManagedFields(t *testing.T) {
	mf := []metav1.ManagedFieldsEntry{{Manager: "kubectl", Operation: metav1.ManagedFieldsOperationApply}}
	typed := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "web-1", Labels: map[string]string{"app": "web"}, ManagedFields: mf}}
	u := &unstructured.Unstructured{}
	u.SetName("web")
	u.SetLabels(map[string]string{"app": "web"})
	u.SetManagedFields(mf)
	for name, obj := range map[string]metav1.Object{"typed": typed, "unstructured": u} {
		t.Run(name, func(t *testing.T) {
			out, err := DropManagedFields(obj)
			if err != nil {
				t.Fatal(err)
			}
			o := out.(metav1.Object)
			if len(o.GetManagedFields()) != 0 {
				t.Fatalf("managed fields kept: %v", o.GetManagedFields())
			}
			if o.GetName() == "" || o.GetLabels()["app"] != "web" {
				t.Fatalf("name or labels lost: %q %v", o.GetName(), o.GetLabels())
			}
		})
	}
	if _, found, _ := unstructured.NestedFieldNoCopy(u.Object, "metadata", "managedFields"); found {
		t.Fatal("unstructured object still has metadata.managedFields")
	}
	tomb := cache.DeletedFinalStateUnknown{Key: "lab/web-1"}
	if out, err := DropManagedFields(tomb); err != nil || out != tomb {
		t.Fatalf("tombstone = %v, %v; want it unchanged", out, err)
	}
}
