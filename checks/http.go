package checks

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
)

type httpParams struct {
	Service string            `json:"service,omitempty"`
	Pod     string            `json:"pod,omitempty"`
	Port    any               `json:"port,omitempty"`
	Path    string            `json:"path,omitempty"`
	Status  *int              `json:"status,omitempty"`
	Header  map[string]string `json:"header,omitempty"`
	Body    string            `json:"body,omitempty"`
	// Requests and Distinct: send that many GETs and require at least
	// Distinct different answers (bodies, or DistinctHeader's values).
	Requests       *int   `json:"requests,omitempty"`
	Distinct       *int   `json:"distinct,omitempty"`
	DistinctHeader string `json:"distinctHeader,omitempty"`
}

// maxHTTPRequests bounds the GETs one evaluation sends.
const maxHTTPRequests = 50

func httpType() Type {
	return Type{
		Name:   "http",
		Fields: "`service` or `pod`, `port` (default: the Service's first), `path` (default `/`), `status` (default 200), `header` (name: exact value), `body` (regex), `requests` (how many GETs, default 1, at most 50), `distinct` (at least that many different answers among them: bodies, or the values of `distinctHeader`)",
		Passes: "a GET through the API server's proxy to the Service (or pod) answers with that status, headers and body, e.g. `Server: labapp/v1` after a rollback; with `requests`, every one of them does, and with `distinct` they came back at least that different (the Service spreads them over its pods). Asked again on every change of the pods and every 2 s while waiting",
		Example: `- type: http
  service: web
  header: {Server: labapp/v1}
- type: http
  description: requests to the Service reach at least three different pods
  service: web
  requests: 30
  distinct: 3`,
		compile: typed(func(p httpParams, _ time.Duration) (Check, error) {
			if (p.Service == "") == (p.Pod == "") {
				return nil, fmt.Errorf("set exactly one of %q or %q", "service", "pod")
			}
			c := &httpCheck{p: p, status: http.StatusOK, path: "/"}
			switch port := p.Port.(type) {
			case nil:
			case string:
				c.port = port
			case float64:
				if port != float64(int(port)) || port < 1 || port > 65535 {
					return nil, fmt.Errorf("field %q must be a port number or name", "port")
				}
				c.port = strconv.Itoa(int(port))
			default:
				return nil, fmt.Errorf("field %q must be a port number or name", "port")
			}
			if p.Pod != "" && c.port == "" {
				return nil, fmt.Errorf("field %q is required with %q", "port", "pod")
			}
			if p.Path != "" {
				if !strings.HasPrefix(p.Path, "/") {
					return nil, fmt.Errorf("field %q must start with /", "path")
				}
				c.path = p.Path
			}
			if p.Status != nil {
				c.status = *p.Status
			}
			if p.Body != "" {
				var err error
				if c.body, err = regexp.Compile(p.Body); err != nil {
					return nil, fmt.Errorf("field %q is not a regular expression: %v", "body", err)
				}
			}
			if err := c.spread(p); err != nil {
				return nil, err
			}
			return c, nil
		}),
	}
}

// httpCheck: what a Service or pod answers to a GET (or to several).
type httpCheck struct {
	p        httpParams
	port     string
	path     string
	status   int
	body     *regexp.Regexp
	requests int
	distinct int
}

// spread reads requests, distinct and distinctHeader.
func (c *httpCheck) spread(p httpParams) error {
	c.requests = 1
	if p.Distinct != nil {
		if *p.Distinct < 2 {
			return fmt.Errorf("field %q must be at least 2 (different answers), got %d", "distinct", *p.Distinct)
		}
		c.distinct = *p.Distinct
		c.requests = min(max(10, 5*c.distinct), maxHTTPRequests)
	} else if p.DistinctHeader != "" {
		return fmt.Errorf("field %q needs %q (how many different values)", "distinctHeader", "distinct")
	}
	if p.Requests != nil {
		if *p.Requests < 1 || *p.Requests > maxHTTPRequests {
			return fmt.Errorf("field %q must be between 1 and %d, got %d", "requests", maxHTTPRequests, *p.Requests)
		}
		c.requests = *p.Requests
	}
	if c.distinct > c.requests {
		return fmt.Errorf("%d requests cannot give %d different answers: raise %q", c.requests, c.distinct, "requests")
	}
	return nil
}

func (c *httpCheck) Needs() []Resource { return []Resource{podResource()} }

func (c *httpCheck) Concern() Concern { return Concern{} }

func (c *httpCheck) target() string {
	t := "Service " + c.p.Service
	if c.p.Pod != "" {
		t = "pod " + c.p.Pod
	}
	if c.port != "" {
		t += ":" + c.port
	}
	return t
}

func (c *httpCheck) Expected() string {
	want := []string{fmt.Sprintf("status %d", c.status)}
	for _, k := range sortedKeys(c.p.Header) {
		want = append(want, fmt.Sprintf("%s: %s", k, c.p.Header[k]))
	}
	if c.body != nil {
		want = append(want, fmt.Sprintf("a body matching %q", c.p.Body))
	}
	if c.requests > 1 {
		spread := ""
		if c.distinct > 0 {
			what := "answers"
			if c.p.DistinctHeader != "" {
				what = "values of " + c.p.DistinctHeader
			}
			spread = fmt.Sprintf(", with at least %d different %s", c.distinct, what)
		}
		return fmt.Sprintf("%d GETs %s on %s all answer %s%s", c.requests, c.path, c.target(), strings.Join(want, ", "), spread)
	}
	return fmt.Sprintf("GET %s on %s answers %s", c.path, c.target(), strings.Join(want, ", "))
}

// statusMessage is the message of an API server Status body (a proxy
// error such as `services "web" not found`), or the body's first line.
func statusMessage(body string) string {
	var st struct {
		Kind    string `json:"kind"`
		Message string `json:"message"`
	}
	if json.Unmarshal([]byte(body), &st) == nil && st.Kind == "Status" && st.Message != "" {
		return st.Message
	}
	return firstLine(body)
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func (c *httpCheck) Probe(ctx context.Context, s *State, p Prober, _ string) (bool, string, error) {
	if p == nil {
		return false, "", fmt.Errorf("http checks need a cluster")
	}
	// All the requests of one judgement share a bound, so a slow Service
	// cannot hold a live view (labs watch) for minutes.
	bounded, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	seen := map[string]int{}
	var order []string
	found := ""
	for i := 0; i < c.requests; i++ {
		ok, f, key := c.ask(bounded, s, p)
		if ctx.Err() != nil {
			return false, "", ctx.Err()
		}
		if strings.HasPrefix(f, rbacRefusal) {
			// Not the app's answer: the API server will not proxy for this
			// learner, and waiting does not change that.
			return false, "", settled{f}
		}
		if !ok {
			if c.requests > 1 {
				f = fmt.Sprintf("request %d of %d: %s", i+1, c.requests, f)
			}
			return false, f, nil
		}
		found = f
		if seen[key] == 0 {
			order = append(order, key)
		}
		seen[key]++
	}
	if c.distinct == 0 {
		if c.requests > 1 {
			found = fmt.Sprintf("%d of %d answered %s", c.requests, c.requests, found)
		}
		return true, found, nil
	}
	parts := make([]string, len(order))
	for i, k := range order {
		parts[i] = fmt.Sprintf("%s ×%d", quoteShort(k), seen[k])
	}
	found = fmt.Sprintf("%d answers, %d different: %s", c.requests, len(order), strings.Join(parts, ", "))
	return len(order) >= c.distinct, found, nil
}

// rbacRefusal starts what an http check found when RBAC refused the proxy.
const rbacRefusal = "403 Forbidden by the API server: "

// ask sends one GET: whether its answer is what the check asks, what was
// found, and the answer's key for distinct (its body, or a header).
func (c *httpCheck) ask(ctx context.Context, s *State, p Prober) (bool, string, string) {
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	res, err := p.HTTP(ctx, HTTPRequest{Namespace: s.Namespace, Service: c.p.Service, Pod: c.p.Pod, Port: c.port, Path: c.path})
	if err != nil {
		return false, fmt.Sprintf("no answer: %v", err), ""
	}
	var got []string
	for _, k := range sortedKeys(c.p.Header) {
		got = append(got, fmt.Sprintf("%s: %s", k, or(res.Header.Get(k), "(none)")))
	}
	found := fmt.Sprintf("status %d", res.Status)
	if len(got) > 0 {
		found += ", " + strings.Join(got, ", ")
	}
	if res.Status != c.status {
		if b := strings.TrimSpace(res.Body); b != "" && res.Status >= 400 {
			msg := statusMessage(b)
			if res.Status == 403 && strings.Contains(msg, "/proxy\"") && strings.Contains(msg, "cannot ") {
				return false, rbacRefusal + msg + "; the check asks through the API server's proxy, which your account may not use: ask your instructor", ""
			}
			found += " (" + msg + ")"
		}
		return false, found, ""
	}
	for _, k := range sortedKeys(c.p.Header) {
		if res.Header.Get(k) != c.p.Header[k] {
			return false, found, ""
		}
	}
	if c.body != nil && !c.body.MatchString(res.Body) {
		b := res.Body
		if len(b) > 120 {
			b = b[:120] + "..."
		}
		return false, fmt.Sprintf("%s, body %q", found, b), ""
	}
	key := strings.TrimSpace(res.Body)
	if c.p.DistinctHeader != "" {
		key = res.Header.Get(c.p.DistinctHeader)
	}
	return true, found, key
}
