package images

import (
	"archive/tar"
	"bytes"
	"encoding/json"
	"io"
	"sort"
	"strings"
	"testing"
)

// The archive is a docker-archive whose manifest names every tag, with the
// binary layer stored once.
func TestArchive(t *testing.T) {
	arch, err := Archive("amd64")
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(bytes.NewReader(arch))
	files := map[string][]byte{}
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(tr)
		files[h.Name] = b
	}
	var manifest []struct {
		Config   string
		RepoTags []string
		Layers   []string
	}
	if err := json.Unmarshal(files["manifest.json"], &manifest); err != nil {
		t.Fatalf("manifest.json: %v", err)
	}
	var got []string
	layers := map[string]bool{}
	for _, m := range manifest {
		got = append(got, m.RepoTags...)
		for _, l := range m.Layers {
			layers[l] = true
		}
		var cfg struct {
			Architecture string
			Config       struct{ Env, Entrypoint []string }
		}
		if err := json.Unmarshal(files[m.Config], &cfg); err != nil {
			t.Fatal(err)
		}
		if cfg.Architecture != "amd64" || cfg.Config.Entrypoint[0] != "/labapp" {
			t.Errorf("config of %v = %+v", m.RepoTags, cfg)
		}
		tag := strings.TrimPrefix(m.RepoTags[0], "labapp:")
		if !strings.Contains(strings.Join(cfg.Config.Env, " "), "LABAPP_VERSION="+tag) {
			t.Errorf("tag %s has env %v", m.RepoTags[0], cfg.Config.Env)
		}
	}
	sort.Strings(got)
	if strings.Join(got, ",") != "labapp:v1,labapp:v2,labapp:v3" {
		t.Errorf("tags = %v", got)
	}
	if len(layers) != 1 {
		t.Errorf("want the layer once, got %d layers", len(layers))
	}
}

func TestArchiveUnknownArch(t *testing.T) {
	if _, err := Archive("riscv64"); err == nil {
		t.Fatal("want an error for an architecture that is not embedded")
	}
}
