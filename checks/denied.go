package checks

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/validation"
)

// APIProber asks the API server what no watch shows: whether it would
// refuse a request, what a container printed. Part of Prober.
type APIProber interface {
	// DryRun sends a request as a server-side dry run (nothing is stored)
	// and returns the API server's refusal, or nil when it would accept.
	DryRun(ctx context.Context, req DryRunRequest) error
	// Logs returns what a container printed.
	Logs(ctx context.Context, req LogsRequest) (string, error)
}

// DryRunRequest is one request to judge without making it.
type DryRunRequest struct {
	// Namespace is where a namespaced object goes when its manifest names
	// none.
	Namespace string
	Verb      string // create, apply (server-side) or delete
	Object    *unstructured.Unstructured
	// ServiceAccount, as NAMESPACE/NAME, is who asks (impersonated); ""
	// is the learner's own identity.
	ServiceAccount string
}

type deniedParams struct {
	Manifest       json.RawMessage `json:"manifest"`
	Verb           string          `json:"verb,omitempty"`
	ServiceAccount string          `json:"serviceAccount,omitempty"`
	Reason         string          `json:"reason"`
}

// deniedVerbs are the requests a denied check can send.
var deniedVerbs = []string{"create", "apply", "delete"}

func deniedType() Type {
	return Type{
		Name:   "denied",
		Fields: "`manifest` (one object: a map, or YAML text), `verb` (`create`, the default; `apply`: server-side apply, a change to an existing object; `delete`), `serviceAccount` (optional: ask as this ServiceAccount of the lab's namespace, or `NAMESPACE/NAME`; default: the learner's own identity), `reason` (a regex the refusal's reason and message must match, e.g. `exceeded quota`)",
		Passes: "the API server refuses the request, sent as a server-side dry run (nothing is ever created, changed or deleted), for a reason matching `reason`: a ResourceQuota, a LimitRange, Pod Security, an admission policy or RBAC. Accepted, or refused for another reason, fails and says what the API server answered. Asked again every 2 s while waiting (a refusal leaves no object and no event to watch)",
		Example: `- type: denied
  description: a pod asking for 1Gi is refused by the namespace's quota
  reason: exceeded quota
  manifest: |
    apiVersion: v1
    kind: Pod
    metadata: {name: too-big}
    spec:
      containers:
      - name: app
        image: labapp:v1
        resources:
          requests: {memory: 1Gi}
          limits: {memory: 1Gi}
- type: denied
  description: the ServiceAccount viewer may not delete pods
  serviceAccount: viewer
  verb: delete
  reason: cannot delete resource "pods"
  manifest: {apiVersion: v1, kind: Pod, metadata: {name: web}}`,
		compile: typed(func(p deniedParams, _ time.Duration) (Check, error) {
			return newDenied(p)
		}),
	}
}

// denied: the API server refuses a request, for a given reason.
type denied struct {
	p      deniedParams
	obj    *unstructured.Unstructured
	verb   string
	reason *regexp.Regexp
}

func newDenied(p deniedParams) (Check, error) {
	c := &denied{p: p, verb: or(p.Verb, "create")}
	if !slices.Contains(deniedVerbs, c.verb) {
		return nil, fmt.Errorf("field %q must be %s, not %q", "verb", strings.Join(deniedVerbs, ", "), p.Verb)
	}
	if err := require("reason", p.Reason); err != nil {
		return nil, fmt.Errorf("%w: a regex the refusal must match (what refuses it and why), so that a refusal for another reason does not pass", err)
	}
	var err error
	if c.reason, err = regexp.Compile(p.Reason); err != nil {
		return nil, fmt.Errorf("field %q is not a regular expression: %v", "reason", err)
	}
	if c.obj, err = manifestObject(p.Manifest); err != nil {
		return nil, err
	}
	if p.ServiceAccount != "" && !strings.Contains(p.ServiceAccount, "${") {
		ns, name, found := strings.Cut(p.ServiceAccount, "/")
		if !found {
			ns, name = "", ns
		}
		for _, part := range []string{ns, name} {
			if part == "" && found {
				return nil, fmt.Errorf("field %q: %q is NAME or NAMESPACE/NAME", "serviceAccount", p.ServiceAccount)
			}
			if part != "" {
				if errs := validation.IsDNS1123Subdomain(part); len(errs) > 0 {
					return nil, fmt.Errorf("field %q: %q: %s", "serviceAccount", part, strings.Join(errs, "; "))
				}
			}
		}
	}
	return c, nil
}

// Needs is nothing: a refusal has no object to watch, so the check asks
// again every reprobe.
func (c *denied) Needs() []Resource { return nil }

func (c *denied) Concern() Concern { return Concern{} }

func (c *denied) who() string {
	if c.p.ServiceAccount == "" {
		return ""
	}
	return " as ServiceAccount " + c.p.ServiceAccount
}

func (c *denied) request() string {
	return fmt.Sprintf("%s %s %s%s", c.verb, c.obj.GetKind(), or(c.obj.GetName(), c.obj.GetGenerateName()+"*"), c.who())
}

func (c *denied) Expected() string {
	return fmt.Sprintf("the API server refuses to %s, for a reason matching %q", c.request(), c.p.Reason)
}

func (c *denied) Probe(ctx context.Context, s *State, p Prober, _ string) (bool, string, error) {
	ap, ok := p.(APIProber)
	if !ok {
		return false, "", fmt.Errorf("denied checks need a cluster")
	}
	sa := c.p.ServiceAccount
	if sa != "" && !strings.Contains(sa, "/") {
		sa = s.Namespace + "/" + sa
	}
	rctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	err := ap.DryRun(rctx, DryRunRequest{Namespace: s.Namespace, Verb: c.verb, Object: c.obj.DeepCopy(), ServiceAccount: sa})
	if ctx.Err() != nil {
		return false, "", ctx.Err() // the wait ended, not the request
	}
	if err == nil {
		return false, fmt.Sprintf("the API server would accept it (a dry run to %s passed every admission and RBAC check)", c.request()), nil
	}
	var st apierrors.APIStatus
	if !errors.As(err, &st) {
		return false, fmt.Sprintf("could not ask the API server: %v", err), nil
	}
	said := fmt.Sprintf("%s: %s", st.Status().Reason, st.Status().Message)
	if !c.reason.MatchString(said) {
		return false, "refused, but for another reason: " + said, nil
	}
	return true, "refused: " + said, nil
}
