package images

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// Registry is where a cluster labs does not own pulls the workload image
// from: host[:port][/path], as image references write it.
type Registry struct {
	// Ref is host[:port][/path]; the image is Ref/labapp:TAG.
	Ref string
	// PlainHTTP talks HTTP instead of HTTPS (a registry on the class's own
	// network; its nodes must be told the same).
	PlainHTTP bool
	// Username and Password answer a Basic or Bearer token challenge.
	Username, Password string
	// Client is the HTTP client; nil is http.DefaultClient.
	Client *http.Client
}

// Image is the reference a manifest names for tag: labapp:v1, or
// REF/labapp:v1 in a registry.
func (r Registry) Image(tag string) string {
	if r.Ref == "" {
		return Repository + ":" + tag
	}
	return strings.TrimSuffix(r.Ref, "/") + "/" + Repository + ":" + tag
}

// ParseRegistry checks a --registry value: a host with an optional port and
// path, no scheme, no tag.
func ParseRegistry(ref string) (Registry, error) {
	ref = strings.TrimSuffix(ref, "/")
	bad := func(why string) (Registry, error) {
		return Registry{}, fmt.Errorf("registry %q: %s; expected host[:port][/path] as an image reference starts, for example registry.example.com/bootcamp or 10.0.0.5:5000", ref, why)
	}
	if strings.Contains(ref, "://") {
		return bad("no scheme (--plain-http says HTTP)")
	}
	host, path, _ := strings.Cut(ref, "/")
	name, port, hasPort := strings.Cut(host, ":")
	if name == "" || strings.ContainsAny(name, "@ _") {
		return bad("no host")
	}
	if hasPort {
		if _, err := strconv.ParseUint(port, 10, 16); err != nil {
			return bad("port " + port + " is not a number")
		}
	}
	if path != "" && !repoPath.MatchString(path) {
		return bad("path " + path + " is not lowercase letters, digits, '.', '_', '-' and '/'")
	}
	return Registry{Ref: ref}, nil
}

var repoPath = regexp.MustCompile(`^[a-z0-9]+([._-][a-z0-9]+)*(/[a-z0-9]+([._-][a-z0-9]+)*)*$`)

// Push uploads every tag of the workload image (an index of every
// architecture) to the registry with the OCI distribution API, skipping
// blobs it already has. progress, if not nil, is told each tag pushed.
func (r Registry) Push(ctx context.Context, progress func(ref string)) error {
	idxs, err := Indexes()
	if err != nil {
		return err
	}
	s := r.session()
	for i, t := range tags() {
		if err := s.pushIndex(ctx, idxs[i], t); err != nil {
			return fmt.Errorf("pushing %s: %w", r.Image(t), err)
		}
		if progress != nil {
			progress(r.Image(t))
		}
	}
	return nil
}

// Has reports whether the registry serves every tag, for doctor and for
// class up to prove what it pushed.
func (r Registry) Has(ctx context.Context) error {
	s := r.session()
	for _, t := range tags() {
		resp, err := s.do(ctx, http.MethodHead, "/manifests/"+t, nil, "", map[string]string{"Accept": string(types.OCIImageIndex)})
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("%s: the registry answered %s", r.Image(t), resp.Status)
		}
	}
	return nil
}

// session talks to the registry for the workload's repository there.
func (r Registry) session() *session {
	s := &session{reg: r, client: r.Client}
	if s.client == nil {
		s.client = http.DefaultClient
	}
	host, path, _ := strings.Cut(r.Ref, "/")
	s.host, s.repo = host, strings.TrimPrefix(path+"/"+Repository, "/")
	return s
}

type session struct {
	reg        Registry
	client     *http.Client
	host, repo string
	auth       string // the Authorization header once a challenge was answered
}

func (s *session) base() string {
	scheme := "https"
	if s.reg.PlainHTTP {
		scheme = "http"
	}
	return scheme + "://" + s.host + "/v2/" + s.repo
}

func (s *session) pushIndex(ctx context.Context, idx v1.ImageIndex, tag string) error {
	im, err := idx.IndexManifest()
	if err != nil {
		return err
	}
	for _, d := range im.Manifests {
		img, err := idx.Image(d.Digest)
		if err != nil {
			return err
		}
		if err := s.pushImage(ctx, img, d); err != nil {
			return err
		}
	}
	raw, err := idx.RawManifest()
	if err != nil {
		return err
	}
	mt, err := idx.MediaType()
	if err != nil {
		return err
	}
	return s.putManifest(ctx, tag, raw, mt)
}

func (s *session) pushImage(ctx context.Context, img v1.Image, d v1.Descriptor) error {
	layers, err := img.Layers()
	if err != nil {
		return err
	}
	for _, l := range layers {
		dg, err := l.Digest()
		if err != nil {
			return err
		}
		if err := s.pushBlob(ctx, dg, l.Compressed); err != nil {
			return err
		}
	}
	cfg, err := img.RawConfigFile()
	if err != nil {
		return err
	}
	cd, err := img.ConfigName()
	if err != nil {
		return err
	}
	if err := s.pushBlob(ctx, cd, func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(cfg)), nil }); err != nil {
		return err
	}
	raw, err := img.RawManifest()
	if err != nil {
		return err
	}
	return s.putManifest(ctx, d.Digest.String(), raw, d.MediaType)
}

func (s *session) pushBlob(ctx context.Context, dg v1.Hash, open func() (io.ReadCloser, error)) error {
	resp, err := s.do(ctx, http.MethodHead, "/blobs/"+dg.String(), nil, "", nil)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode == http.StatusOK {
		return nil // a class up run again pushes nothing twice
	}
	resp, err = s.do(ctx, http.MethodPost, "/blobs/uploads/", nil, "", nil)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		return fmt.Errorf("starting the upload of %s: the registry answered %s", dg, resp.Status)
	}
	loc, err := resp.Location()
	if err != nil {
		return fmt.Errorf("starting the upload of %s: no Location: %w", dg, err)
	}
	q := loc.Query()
	q.Set("digest", dg.String())
	loc.RawQuery = q.Encode()
	body, err := open()
	if err != nil {
		return err
	}
	defer body.Close()
	b, err := io.ReadAll(body)
	if err != nil {
		return err
	}
	resp, err = s.doURL(ctx, http.MethodPut, loc.String(), b, "application/octet-stream", nil)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		return fmt.Errorf("uploading %s: the registry answered %s: %s", dg, resp.Status, short(resp.Body))
	}
	return nil
}

func (s *session) putManifest(ctx context.Context, ref string, raw []byte, mt types.MediaType) error {
	resp, err := s.do(ctx, http.MethodPut, "/manifests/"+ref, raw, string(mt), nil)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusCreated && resp.StatusCode != http.StatusOK {
		return fmt.Errorf("putting manifest %s: the registry answered %s: %s", ref, resp.Status, short(resp.Body))
	}
	return nil
}

func (s *session) do(ctx context.Context, method, path string, body []byte, ctype string, hdr map[string]string) (*http.Response, error) {
	return s.doURL(ctx, method, s.base()+path, body, ctype, hdr)
}

// doURL sends one request, answering one authentication challenge (Basic,
// or a Bearer token from the realm the registry names) and sending again.
func (s *session) doURL(ctx context.Context, method, u string, body []byte, ctype string, hdr map[string]string) (*http.Response, error) {
	if loc, err := url.Parse(u); err == nil && loc.Host == "" {
		base, _ := url.Parse(s.base())
		u = base.ResolveReference(loc).String()
	}
	send := func() (*http.Response, error) {
		req, err := http.NewRequestWithContext(ctx, method, u, bytes.NewReader(body))
		if err != nil {
			return nil, err
		}
		if body == nil {
			req.Body = nil
		}
		if ctype != "" {
			req.Header.Set("Content-Type", ctype)
		}
		for k, v := range hdr {
			req.Header.Set(k, v)
		}
		if s.auth != "" {
			req.Header.Set("Authorization", s.auth)
		}
		resp, err := s.client.Do(req)
		if err != nil {
			return nil, fmt.Errorf("registry %s does not answer: %w", s.host, err)
		}
		return resp, nil
	}
	resp, err := send()
	if err != nil || resp.StatusCode != http.StatusUnauthorized || s.auth != "" && !strings.HasPrefix(s.auth, "Bearer") {
		return resp, err
	}
	challenge := resp.Header.Get("WWW-Authenticate")
	resp.Body.Close()
	if err := s.answer(ctx, challenge); err != nil {
		return nil, err
	}
	return send()
}

func (s *session) answer(ctx context.Context, challenge string) error {
	scheme, params, _ := strings.Cut(challenge, " ")
	switch strings.ToLower(scheme) {
	case "basic":
		if s.reg.Username == "" {
			return fmt.Errorf("registry %s asks for a user name and password: set LABS_REGISTRY_USER and LABS_REGISTRY_PASSWORD", s.host)
		}
		req, _ := http.NewRequest(http.MethodGet, "http://x", nil)
		req.SetBasicAuth(s.reg.Username, s.reg.Password)
		s.auth = req.Header.Get("Authorization")
		return nil
	case "bearer":
		p := challengeParams(params)
		if p["realm"] == "" {
			return fmt.Errorf("registry %s asks for a token but names no realm", s.host)
		}
		tu, err := url.Parse(p["realm"])
		if err != nil {
			return fmt.Errorf("registry %s: token realm %q: %w", s.host, p["realm"], err)
		}
		q := tu.Query()
		if p["service"] != "" {
			q.Set("service", p["service"])
		}
		q.Set("scope", "repository:"+s.repo+":pull,push")
		tu.RawQuery = q.Encode()
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, tu.String(), nil)
		if err != nil {
			return err
		}
		if s.reg.Username != "" {
			req.SetBasicAuth(s.reg.Username, s.reg.Password)
		}
		resp, err := s.client.Do(req)
		if err != nil {
			return fmt.Errorf("registry %s: token from %s: %w", s.host, tu.Host, err)
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("registry %s refused a push token (%s): check LABS_REGISTRY_USER and LABS_REGISTRY_PASSWORD", s.host, resp.Status)
		}
		var tok struct {
			Token       string `json:"token"`
			AccessToken string `json:"access_token"`
		}
		if err := json.NewDecoder(resp.Body).Decode(&tok); err != nil {
			return fmt.Errorf("registry %s: reading its token: %w", s.host, err)
		}
		if tok.Token == "" {
			tok.Token = tok.AccessToken
		}
		if tok.Token == "" {
			return errors.New("registry " + s.host + " gave an empty token")
		}
		s.auth = "Bearer " + tok.Token
		return nil
	}
	return fmt.Errorf("registry %s asks for authentication labs does not speak (%q)", s.host, challenge)
}

// challengeParams reads key="value" pairs of a WWW-Authenticate header.
func challengeParams(s string) map[string]string {
	out := map[string]string{}
	for s != "" {
		s = strings.TrimLeft(s, " ,")
		k, rest, ok := strings.Cut(s, "=")
		if !ok {
			break
		}
		var v string
		if strings.HasPrefix(rest, `"`) {
			end := strings.Index(rest[1:], `"`)
			if end < 0 {
				v, rest = rest[1:], ""
			} else {
				v, rest = rest[1:end+1], rest[end+2:]
			}
		} else {
			v, rest, _ = strings.Cut(rest, ",")
		}
		out[strings.ToLower(strings.TrimSpace(k))] = v
		s = rest
	}
	return out
}

func short(r io.Reader) string {
	b, _ := io.ReadAll(io.LimitReader(r, 300))
	return strings.TrimSpace(string(b))
}

// labappRef is the image labs' content names, labapp:TAG, where it is not
// already part of a longer reference (docker.io/library/labapp:v1).
var labappRef = regexp.MustCompile(`(^|[^A-Za-z0-9_./-])` + Repository + `:([A-Za-z0-9_][A-Za-z0-9_.-]*)`)

// Rewrite makes a lab's text name the workload image in the registry:
// every labapp:TAG (manifests, commands, expressions, prose) becomes
// REF/labapp:TAG, so what the learner reads, types and is checked against
// is what the class's nodes can pull. A tag never pushed still fails to
// pull, as it does from a node.
func (r Registry) Rewrite(src []byte) []byte {
	if r.Ref == "" {
		return src
	}
	return labappRef.ReplaceAll(src, []byte("${1}"+strings.TrimSuffix(r.Ref, "/")+"/"+Repository+":${2}"))
}

// IsWorkload reports whether ref is a tag of the workload image: as
// loaded into the nodes (labapp:v1), or in a class's registry
// (REG/labapp:v1, the text a joined machine reads).
func IsWorkload(ref string) bool {
	for _, t := range Tags() {
		if ref == t || strings.HasSuffix(ref, "/"+t) {
			return true
		}
	}
	return false
}
