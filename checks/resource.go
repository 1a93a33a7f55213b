package checks

import (
	"fmt"
	"strings"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// Resource is a kind of object a check reads, and where: the engine watches
// the union of what a step's checks need.
type Resource struct {
	// APIVersion is "" to take the kind from the group the cluster prefers
	// (apps/v1 for Deployment, v1 for Event).
	APIVersion string
	Kind       string
	// Namespace is "" for the lab's namespace; cluster-scoped kinds (Node)
	// ignore it.
	Namespace string
}

func (r Resource) String() string {
	if r.APIVersion == "" {
		return r.Kind
	}
	return r.APIVersion + " " + r.Kind
}

// The kinds the built-in check types read.
func podResource() Resource        { return Resource{APIVersion: "v1", Kind: "Pod"} }
func deploymentResource() Resource { return Resource{APIVersion: "apps/v1", Kind: "Deployment"} }
func eventResource() Resource      { return Resource{APIVersion: "v1", Kind: "Event"} }

// resolved is a Resource as the cluster serves it.
type resolved struct {
	gvr        schema.GroupVersionResource
	kind       string
	namespaced bool
}

// resolve finds how the cluster serves r, through discovery (a CRD works
// like a built-in kind).
func resolve(m meta.RESTMapper, r Resource) (resolved, error) {
	var gk schema.GroupKind
	var versions []string
	if r.APIVersion != "" {
		gv, err := schema.ParseGroupVersion(r.APIVersion)
		if err != nil {
			return resolved{}, fmt.Errorf("apiVersion %q: %w", r.APIVersion, err)
		}
		gk, versions = gv.WithKind(r.Kind).GroupKind(), []string{gv.Version}
	} else {
		gvk, err := m.KindFor(schema.GroupVersionResource{Resource: strings.ToLower(r.Kind)})
		if err != nil {
			return resolved{}, fmt.Errorf("the cluster serves no kind %s (`labs kubectl api-resources` lists the kinds it serves)", r.Kind)
		}
		gk, versions = gvk.GroupKind(), []string{gvk.Version}
	}
	mapping, err := m.RESTMapping(gk, versions...)
	if err != nil {
		return resolved{}, fmt.Errorf("the cluster serves no kind %s (`labs kubectl api-resources` lists the kinds it serves)", r)
	}
	return resolved{gvr: mapping.Resource, kind: mapping.GroupVersionKind.Kind, namespaced: mapping.Scope.Name() == meta.RESTScopeNameNamespace}, nil
}
