package checks

import "k8s.io/apimachinery/pkg/api/meta"

// DropManagedFields is an informer transform. Server-side apply's
// bookkeeping (metadata.managedFields) is often the largest part of an
// object and no check reads it, so the caches keep objects without it:
// labs watch holds a namespace's pods for as long as it runs.
func DropManagedFields(obj any) (any, error) {
	if a, err := meta.Accessor(obj); err == nil {
		a.SetManagedFields(nil)
	}
	return obj, nil
}
