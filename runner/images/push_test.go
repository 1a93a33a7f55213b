package images

import (
	"context"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/google/go-containerregistry/pkg/registry"
)

// A real OCI registry (go-containerregistry's, in process) takes every tag,
// serves it back, and a second push uploads no blob again.
func TestPushToRegistry(t *testing.T) {
	var uploads atomic.Int32
	reg := registry.New(registry.Logger(log.New(io.Discard, "", 0)))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/blobs/uploads/") {
			uploads.Add(1)
		}
		reg.ServeHTTP(w, r)
	}))
	defer srv.Close()
	r, err := ParseRegistry(strings.TrimPrefix(srv.URL, "http://") + "/bootcamp")
	if err != nil {
		t.Fatal(err)
	}
	r.PlainHTTP = true
	ctx := context.Background()
	if err := r.Has(ctx); err == nil {
		t.Fatal("Has: an empty registry has every tag")
	}
	var pushed []string
	if err := r.Push(ctx, func(ref string) { pushed = append(pushed, ref) }); err != nil {
		t.Fatal(err)
	}
	if len(pushed) != len(Tags()) || !strings.HasSuffix(pushed[0], "/bootcamp/labapp:v1") {
		t.Fatalf("pushed %v", pushed)
	}
	if err := r.Has(ctx); err != nil {
		t.Fatalf("Has after push: %v", err)
	}
	first := uploads.Load()
	if first == 0 {
		t.Fatal("no blob uploaded")
	}
	if err := r.Push(ctx, nil); err != nil {
		t.Fatal(err)
	}
	if again := uploads.Load() - first; again != 0 {
		t.Fatalf("a second push uploaded %d blobs again", again)
	}
	// The pushed index names the image's user: it runs under restricted.
	resp, err := http.Get(srv.URL + "/v2/bootcamp/labapp/manifests/v2")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("GET manifest: %v %v", resp, err)
	}
	resp.Body.Close()
}

// Basic authentication: without credentials the error says which variables
// to set; with them the push goes through.
func TestPushBasicAuth(t *testing.T) {
	reg := registry.New(registry.Logger(log.New(io.Discard, "", 0)))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if u, p, ok := r.BasicAuth(); !ok || u != "teacher" || p != "s3cret" {
			w.Header().Set("WWW-Authenticate", `Basic realm="class"`)
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		reg.ServeHTTP(w, r)
	}))
	defer srv.Close()
	r, _ := ParseRegistry(strings.TrimPrefix(srv.URL, "http://"))
	r.PlainHTTP = true
	err := r.Push(context.Background(), nil)
	if err == nil || !strings.Contains(err.Error(), "LABS_REGISTRY_USER") {
		t.Fatalf("without credentials: %v", err)
	}
	r.Username, r.Password = "teacher", "s3cret"
	if err := r.Push(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
}

func TestParseRegistry(t *testing.T) {
	for _, ok := range []string{"localhost:5000", "registry.example.com/bootcamp", "10.0.0.5:5000/a/b-c", "reg.io/"} {
		if _, err := ParseRegistry(ok); err != nil {
			t.Errorf("%s: %v", ok, err)
		}
	}
	for _, bad := range []string{"", "http://reg.io", "reg.io:port", "reg.io/Upper", "reg.io/a:v1", "reg.io/a@sha256:00", ":5000"} {
		if _, err := ParseRegistry(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	r, _ := ParseRegistry("reg.io/x/")
	if got := r.Image("v2"); got != "reg.io/x/labapp:v2" {
		t.Errorf("Image: %s", got)
	}
}

func TestRewrite(t *testing.T) {
	r := Registry{Ref: "10.0.0.5:5000/class"}
	in := "image: labapp:v1\n`labs kubectl set image deployment/web web=labapp:v9`\n" +
		"image == 'labapp:v2'\nServer: labapp/v1\n/run/labapp.pid\ndocker.io/library/labapp:v1\nmylabapp:v1\n"
	want := "image: 10.0.0.5:5000/class/labapp:v1\n`labs kubectl set image deployment/web web=10.0.0.5:5000/class/labapp:v9`\n" +
		"image == '10.0.0.5:5000/class/labapp:v2'\nServer: labapp/v1\n/run/labapp.pid\ndocker.io/library/labapp:v1\nmylabapp:v1\n"
	if got := string(r.Rewrite([]byte(in))); got != want {
		t.Errorf("Rewrite:\n%s\nwant\n%s", got, want)
	}
	if got := string(Registry{}.Rewrite([]byte(in))); got != in {
		t.Errorf("no registry changed the text: %s", got)
	}
	if !IsWorkload("10.0.0.5:5000/class/labapp:v3") || !IsWorkload("labapp:v1") || IsWorkload("10.0.0.5:5000/class/labapp:v9") || IsWorkload("mylabapp:v1") {
		t.Error("IsWorkload")
	}
}
