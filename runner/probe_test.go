package runner

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta/testrestmapper"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"

	"github.com/labs-dev/labs/checks"
)

// apiRequest is what a stand-in API server was asked.
type apiRequest struct {
	method, path, dryRun, body, user string
	groups                           []string
}

// standInAPIServer answers every request with status and body, and
// records what it was asked.
func standInAPIServer(t *testing.T, status int, body string) (*rest.Config, func() []apiRequest) {
	t.Helper()
	var mu sync.Mutex
	var got []apiRequest
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		got = append(got, apiRequest{r.Method, r.URL.Path, r.URL.Query().Get("dryRun"), string(b), r.Header.Get("Impersonate-User"), r.Header.Values("Impersonate-Group")})
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Date", "Sun, 06 Dec 2026 10:00:05 GMT")
		w.WriteHeader(status)
		io.WriteString(w, body)
	}))
	t.Cleanup(srv.Close)
	return &rest.Config{Host: srv.URL}, func() []apiRequest {
		mu.Lock()
		defer mu.Unlock()
		return append([]apiRequest(nil), got...)
	}
}

func object(t *testing.T, js string) *unstructured.Unstructured {
	t.Helper()
	u := &unstructured.Unstructured{}
	if err := u.UnmarshalJSON([]byte(js)); err != nil {
		t.Fatal(err)
	}
	return u
}

// A denied check's request is a dry run, in the lab's namespace for a
// namespaced kind and in none for a cluster-scoped one, as the learner or
// as an impersonated ServiceAccount (whose groups the API server adds).
func TestDryRunRequests(t *testing.T) {
	const refusal = `{"kind":"Status","apiVersion":"v1","status":"Failure","message":"pods \"big\" is forbidden: exceeded quota: memory","reason":"Forbidden","code":403}`
	cfg, asked := standInAPIServer(t, http.StatusForbidden, refusal)
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	p := &prober{cfg: cfg, dyn: dyn, mapper: testrestmapper.TestOnlyStaticRESTMapper(scheme.Scheme)}
	ctx := context.Background()

	err = p.DryRun(ctx, checks.DryRunRequest{Namespace: "lab", Verb: "create", Object: object(t, `{"apiVersion":"v1","kind":"Pod","metadata":{"name":"big"}}`)})
	if !apierrors.IsForbidden(err) || !strings.Contains(err.Error(), "exceeded quota: memory") {
		t.Errorf("the refusal came back as %v", err)
	}
	_ = p.DryRun(ctx, checks.DryRunRequest{Namespace: "lab", Verb: "create", Object: object(t, `{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"other"}}`)})
	_ = p.DryRun(ctx, checks.DryRunRequest{Namespace: "lab", Verb: "delete", ServiceAccount: "lab/viewer", Object: object(t, `{"apiVersion":"v1","kind":"Pod","metadata":{"name":"web"}}`)})
	_ = p.DryRun(ctx, checks.DryRunRequest{Namespace: "lab", Verb: "apply", Object: object(t, `{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web","namespace":"elsewhere"}}`)})

	got := asked()
	if len(got) != 4 {
		t.Fatalf("requests: %+v", got)
	}
	want := []struct{ method, path, user string }{
		{"POST", "/api/v1/namespaces/lab/pods", ""},
		{"POST", "/api/v1/namespaces", ""},
		{"DELETE", "/api/v1/namespaces/lab/pods/web", "system:serviceaccount:lab:viewer"},
		{"PATCH", "/apis/apps/v1/namespaces/elsewhere/deployments/web", ""},
	}
	for i, w := range want {
		g := got[i]
		dry := g.dryRun == "All" || strings.Contains(g.body, `"dryRun":["All"]`)
		if g.method != w.method || g.path != w.path || g.user != w.user || len(g.groups) != 0 || !dry {
			t.Errorf("request %d: %+v; want %s %s as %q, a dry run, no groups", i+1, g, w.method, w.path, w.user)
		}
	}
}

// The step's start is the API server's time (its Date); when it cannot be
// read, this machine's, and the learner is told.
func TestServerClock(t *testing.T) {
	cfg, _ := standInAPIServer(t, http.StatusOK, `{"major":"1","minor":"34"}`)
	var said []string
	say := func(s string) { said = append(said, s) }
	if got, want := serverClock(cfg, say)(context.Background()), time.Date(2026, 12, 6, 10, 0, 5, 0, time.UTC); !got.Equal(want) || len(said) != 0 {
		t.Errorf("server time %s (said %v), want %s", got, said, want)
	}
	dead := &rest.Config{Host: "http://127.0.0.1:1"}
	before := time.Now()
	if got := serverClock(dead, say)(context.Background()); got.Before(before) || len(said) != 1 || !strings.Contains(said[0], "the step's start is this machine's time") {
		t.Errorf("no API server: %s, said %v", got, said)
	}

}
