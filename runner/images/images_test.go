package images

import (
	"archive/tar"
	"bytes"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"testing"

	"github.com/labs-dev/labs/assets"
)

type ociIndex struct {
	Manifests []struct {
		MediaType   string
		Digest      string
		Annotations map[string]string
		Platform    *struct{ Architecture, OS string }
	}
}

// The archive is an OCI layout: one index per tag, each naming the image
// for containerd and holding a manifest per architecture, whose config
// carries the tag's version.
func TestArchive(t *testing.T) {
	arch, err := Archive()
	if err != nil {
		t.Fatal(err)
	}
	files := untar(t, arch)
	var top ociIndex
	if err := json.Unmarshal(files["index.json"], &top); err != nil {
		t.Fatalf("index.json: %v", err)
	}
	var names []string
	for _, m := range top.Manifests {
		name := m.Annotations["io.containerd.image.name"]
		names = append(names, name)
		tag := name[strings.LastIndex(name, ":")+1:]
		var sub ociIndex
		if err := json.Unmarshal(files[blob(m.Digest)], &sub); err != nil {
			t.Fatalf("%s index: %v", name, err)
		}
		var plats []string
		for _, im := range sub.Manifests {
			plats = append(plats, im.Platform.OS+"/"+im.Platform.Architecture)
			var man struct {
				Config struct{ Digest string }
				Layers []struct{ MediaType string }
			}
			if err := json.Unmarshal(files[blob(im.Digest)], &man); err != nil {
				t.Fatal(err)
			}
			var cfg struct {
				Architecture string
				Config       struct{ Env, Entrypoint []string }
			}
			if err := json.Unmarshal(files[blob(man.Config.Digest)], &cfg); err != nil {
				t.Fatal(err)
			}
			if cfg.Architecture != im.Platform.Architecture || cfg.Config.Entrypoint[0] != "/labapp" || len(man.Layers) != 1 {
				t.Errorf("%s %s: config %+v, %d layers", name, im.Platform.Architecture, cfg, len(man.Layers))
			}
			env := strings.Join(cfg.Config.Env, " ")
			if !strings.Contains(env, "LABAPP_VERSION="+tag) || strings.Contains(env, "LABAPP_BROKEN") != (tag == "v3") {
				t.Errorf("%s has env %v", name, cfg.Config.Env)
			}
		}
		sort.Strings(plats)
		if strings.Join(plats, ",") != "linux/amd64,linux/arm64" {
			t.Errorf("%s platforms = %v", name, plats)
		}
	}
	sort.Strings(names)
	if strings.Join(names, ",") != "docker.io/library/labapp:v1,docker.io/library/labapp:v2,docker.io/library/labapp:v3" {
		t.Errorf("images = %v", names)
	}
}

// The image links every applet labapp knows, and no other.
func TestAppletsMatchLabapp(t *testing.T) {
	if runtime.GOOS != "linux" || (runtime.GOARCH != "amd64" && runtime.GOARCH != "arm64") {
		t.Skip("runs the embedded linux binary")
	}
	bin, err := assets.Labapp(runtime.GOARCH)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "labapp")
	if err := os.WriteFile(path, bin, 0o755); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(path, "applets").Output()
	if err != nil {
		t.Fatal(err)
	}
	got := strings.Fields(string(out))
	want := Applets()
	want = want[:len(want)-1] // "labapp" itself is the multi-call name, not an applet
	sort.Strings(got)
	sort.Strings(want)
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("labapp applets %v, image links %v: run `make image` or update images.Applets", got, want)
	}
}

func untar(t *testing.T, b []byte) map[string][]byte {
	t.Helper()
	files := map[string][]byte{}
	tr := tar.NewReader(bytes.NewReader(b))
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return files
		}
		if err != nil {
			t.Fatal(err)
		}
		data, _ := io.ReadAll(tr)
		files[h.Name] = data
	}
}

func blob(digest string) string { return "blobs/" + strings.Replace(digest, ":", "/", 1) }

// Key names the build's images without building them: the same every time,
// a hex SHA-256; Arch maps an engine's machine name to an embedded
// architecture, or "" when there is none.
func TestKeyAndArch(t *testing.T) {
	a, err := Key()
	if err != nil {
		t.Fatal(err)
	}
	b, _ := Key()
	if a != b || len(a) != 64 {
		t.Fatalf("Key() = %q then %q", a, b)
	}
	for in, want := range map[string]string{"x86_64": "amd64", "amd64": "amd64", "aarch64": "arm64", "arm64": "arm64", "s390x": "", "": ""} {
		if got := Arch(in); got != want {
			t.Errorf("Arch(%q) = %q, want %q", in, got, want)
		}
	}
}
