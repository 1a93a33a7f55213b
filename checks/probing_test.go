package checks

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// exec: wrong output fails with what it printed, right output passes; the
// command runs in a running pod that matches.
func TestExecCheck(t *testing.T) {
	for _, tc := range []struct {
		name, spec string
		out        ExecResult
		err        error
		pass       bool
		found      string
	}{
		{"stdout equals", "{type: exec, selector: app=web, command: 'echo $GREETING', stdout: hello}", ExecResult{Stdout: "hello\n"}, nil, true, `it printed "hello"`},
		{"stdout differs", "{type: exec, selector: app=web, command: 'echo $GREETING', stdout: hello}", ExecResult{Stdout: "\n"}, nil, false, `it printed ""`},
		{"regex", "{type: exec, selector: app=web, command: [cat, /etc/config/mode], match: '^prod'}", ExecResult{Stdout: "production"}, nil, true, "production"},
		{"exit code asked", "{type: exec, selector: app=web, command: 'cat /tmp/healthy', exitCode: 1}", ExecResult{ExitCode: 1, Stderr: "cat: /tmp/healthy: no such file"}, nil, true, ""},
		{"exit code differs", "{type: exec, selector: app=web, command: 'cat /tmp/healthy', stdout: ok}", ExecResult{ExitCode: 1, Stderr: "cat: /tmp/healthy: no such file\nmore"}, nil, false, "exit code 1: cat: /tmp/healthy: no such file"},
		{"no shell", "{type: exec, selector: app=web, command: 'true', exitCode: 0}", ExecResult{}, errors.New(`exec: "sh": executable file not found in $PATH`), false, "the command could not run in pod web-a: exec: \"sh\""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := &fakeProber{exec: func(ExecRequest) (ExecResult, error) { return tc.out, tc.err }}
			e := fakeEngine(pod("web-a", "a", 0))
			e.Prober = p
			res, err := e.Run(context.Background(), []Spec{mustSpec(t, tc.spec)}, Options{})
			if err != nil {
				t.Fatal(err)
			}
			if res[0].Passed != tc.pass || !strings.Contains(res[0].Found, tc.found) {
				t.Errorf("passed=%v found %q; want passed=%v containing %q", res[0].Passed, res[0].Found, tc.pass, tc.found)
			}
			if len(p.execs) != 1 || p.execs[0].Pod != "web-a" || p.execs[0].Namespace != ns {
				t.Errorf("exec requests = %+v", p.execs)
			}
		})
	}
	// No running pod: said, not a hang.
	e := fakeEngine()
	e.Prober = &fakeProber{}
	res, err := e.Run(context.Background(), []Spec{mustSpec(t, "{type: exec, pod: ghost, command: 'true', exitCode: 0}")}, Options{})
	if err != nil || res[0].Passed || !strings.Contains(res[0].Found, "no running pod ghost in namespace lab") {
		t.Errorf("exec into a missing pod: %+v, %v", res[0], err)
	}
}

// changed: the value recorded when the step started (the pid file's mtime
// before `kill 1`) must differ; asked again every couple of seconds, since
// a file has no watch.
func TestExecChangedSinceTheStepStarted(t *testing.T) {
	var mtime atomic.Value
	mtime.Store("1700000000")
	p := &fakeProber{exec: func(ExecRequest) (ExecResult, error) { return ExecResult{Stdout: mtime.Load().(string) + "\n"}, nil }}
	e := fakeEngine(pod("web-a", "a", 0))
	e.Prober = p
	specs := []Spec{mustSpec(t, "{type: exec, selector: app=web, command: 'date -r /run/labapp.pid +%s', changed: true}")}
	b, err := e.TakeBaseline(context.Background(), specs)
	if err != nil {
		t.Fatal(err)
	}
	if b.Captured[0] != `{"web-a":"1700000000"}` {
		t.Fatalf("captured = %v", b.Captured)
	}
	res, _ := e.Run(context.Background(), specs, Options{Baseline: b})
	if res[0].Passed || !strings.Contains(res[0].Found, `pod web-a prints "1700000000", as when the step started`) {
		t.Errorf("unchanged: %s", res[0].Sentence())
	}
	go func() { time.Sleep(500 * time.Millisecond); mtime.Store("1700000100") }()
	res, _ = e.Run(context.Background(), specs, Options{Baseline: b, Wait: true, Timeout: 20 * time.Second})
	if !res[0].Passed || !strings.Contains(res[0].Found, `pod web-a prints "1700000100" (was "1700000000")`) {
		t.Errorf("changed: %s", res[0].Sentence())
	}
}

// http: status, headers and body through the API server's proxy.
func TestHTTPCheck(t *testing.T) {
	answer := func(status int, server, body string) func(HTTPRequest) (HTTPResponse, error) {
		return func(HTTPRequest) (HTTPResponse, error) {
			return HTTPResponse{Status: status, Header: http.Header{"Server": {server}}, Body: body}, nil
		}
	}
	spec := mustSpec(t, "{type: http, service: web, header: {Server: labapp/v1}, body: 'version v1'}")
	for _, tc := range []struct {
		name  string
		ans   func(HTTPRequest) (HTTPResponse, error)
		pass  bool
		found string
	}{
		{"rolled back", answer(200, "labapp/v1", "hello from version v1"), true, "status 200, Server: labapp/v1"},
		{"still v2", answer(200, "labapp/v2", "hello from version v2"), false, "status 200, Server: labapp/v2"},
		{"no endpoints", answer(503, "", "no endpoints available for service \"web\""), false, "status 503, Server: (none) (no endpoints available"},
		{"no such Service", answer(404, "", `{"kind":"Status","apiVersion":"v1","status":"Failure","message":"services \"web\" not found","code":404}`), false, `status 404, Server: (none) (services "web" not found)`},
		{"proxy error", func(HTTPRequest) (HTTPResponse, error) { return HTTPResponse{}, errors.New("connection refused") }, false, "no answer: connection refused"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := fakeEngine(pod("web-a", "a", 0))
			e.Prober = &fakeProber{http: tc.ans}
			res, err := e.Run(context.Background(), []Spec{spec}, Options{})
			if err != nil {
				t.Fatal(err)
			}
			if res[0].Passed != tc.pass || !strings.Contains(res[0].Found, tc.found) {
				t.Errorf("passed=%v found %q; want passed=%v containing %q", res[0].Passed, res[0].Found, tc.pass, tc.found)
			}
		})
	}
	// A proxy refused by RBAC is said at once, not after the wait.
	refused := answer(403, "", `{"kind":"Status","apiVersion":"v1","status":"Failure","message":"services \"web\" is forbidden: User \"system:serviceaccount:c-a:learner\" cannot get resource \"services/proxy\" in API group \"\" in the namespace \"c-a\"","reason":"Forbidden","code":403}`)
	e := fakeEngine(pod("web-a", "a", 0))
	e.Prober = &fakeProber{http: refused}
	start := time.Now()
	res, err := e.Run(context.Background(), []Spec{mustSpec(t, "{type: http, service: web, timeout: 30s}")}, Options{Wait: true})
	if err != nil {
		t.Fatal(err)
	}
	if res[0].Passed || !strings.Contains(res[0].Found, "cannot get resource \"services/proxy\"") || !strings.Contains(res[0].Found, "ask your instructor") || time.Since(start) > 10*time.Second {
		t.Errorf("RBAC-refused proxy: passed=%v found %q after %s; want a failure naming services/proxy at once", res[0].Passed, res[0].Found, time.Since(start))
	}
	for _, bad := range []string{
		"- {type: http, service: web, pod: web-a}",
		"- {type: http, pod: web-a}",
		"- {type: http, service: web, path: healthz}",
		"- {type: http, service: web, body: '('}",
		"- {type: http, service: web, port: 70000}",
		"- {type: exec, selector: app=web, command: 'true'}",
		"- {type: exec, command: 'true', exitCode: 0}",
		"- {type: exec, selector: app=web, command: [1, 2], exitCode: 0}",
	} {
		if _, err := ParseSpecs([]byte(bad)); err == nil {
			t.Errorf("ParseSpecs(%s): want an error", bad)
		}
	}
}
