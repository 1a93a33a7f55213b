// Package images assembles the lab workload image from the embedded labapp
// binary, in Go: no Dockerfile, no docker build, no registry. The result is a
// docker-archive tarball that kind loads into every node.
package images

import (
	"archive/tar"
	"bytes"
	"fmt"
	"io"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"

	"github.com/labs-dev/labs/assets"
)

// Repository is the image name lab manifests use, with imagePullPolicy
// IfNotPresent: a tag that was never loaded fails to pull, as a typo should.
const Repository = "labapp"

// Tags are the versions labs load; they run the same binary and differ in
// the version the app reports (body and Server header).
var tags = []string{"v1", "v2", "v3"}

// Tags returns the image references that Archive contains.
func Tags() []string {
	out := make([]string, len(tags))
	for i, t := range tags {
		out[i] = Repository + ":" + t
	}
	return out
}

// Archive builds every tag of the workload image for linux/arch and returns
// them as one docker-archive tarball (the layer is stored once).
func Archive(arch string) ([]byte, error) {
	bin, err := assets.Labapp(arch)
	if err != nil {
		return nil, err
	}
	layerTar, err := rootfs(bin)
	if err != nil {
		return nil, err
	}
	layer, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(layerTar)), nil
	})
	if err != nil {
		return nil, fmt.Errorf("labapp layer: %w", err)
	}
	base, err := mutate.AppendLayers(empty.Image, layer)
	if err != nil {
		return nil, err
	}
	refs := map[name.Reference]v1.Image{}
	for _, t := range tags {
		img, err := withConfig(base, arch, t)
		if err != nil {
			return nil, err
		}
		ref, err := name.NewTag(Repository + ":" + t)
		if err != nil {
			return nil, err
		}
		refs[ref] = img
	}
	var out bytes.Buffer
	if err := tarball.MultiRefWrite(refs, &out); err != nil {
		return nil, fmt.Errorf("writing image archive: %w", err)
	}
	return out.Bytes(), nil
}

func withConfig(base v1.Image, arch, version string) (v1.Image, error) {
	cf, err := base.ConfigFile()
	if err != nil {
		return nil, err
	}
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture = "linux", arch
	cf.Created = v1.Time{Time: time.Unix(0, 0).UTC()}
	cf.Config.Entrypoint = []string{"/labapp"}
	cf.Config.Cmd = []string{"serve"}
	cf.Config.Env = []string{"PATH=/bin", "LABAPP_VERSION=" + version}
	cf.Config.ExposedPorts = map[string]struct{}{"8080/tcp": {}}
	cf.Config.StopSignal = "SIGTERM"
	return mutate.ConfigFile(base, cf)
}

// rootfs is the image's only layer: the binary, busybox-style links to it,
// and the writable directories the app and the labs use.
func rootfs(bin []byte) ([]byte, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	epoch := time.Unix(0, 0)
	entries := []tar.Header{
		{Name: "bin/", Typeflag: tar.TypeDir, Mode: 0o755},
		{Name: "run/", Typeflag: tar.TypeDir, Mode: 0o755},
		{Name: "tmp/", Typeflag: tar.TypeDir, Mode: 0o1777},
		{Name: "labapp", Typeflag: tar.TypeReg, Mode: 0o755, Size: int64(len(bin))},
	}
	for _, applet := range []string{"labapp", "kill", "curl", "hog"} {
		entries = append(entries, tar.Header{Name: "bin/" + applet, Typeflag: tar.TypeSymlink, Linkname: "/labapp", Mode: 0o777})
	}
	for _, h := range entries {
		h.ModTime, h.Format = epoch, tar.FormatPAX
		if err := tw.WriteHeader(&h); err != nil {
			return nil, err
		}
		if h.Typeflag == tar.TypeReg {
			if _, err := tw.Write(bin); err != nil {
				return nil, err
			}
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
