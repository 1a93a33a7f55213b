package runner

import (
	"context"
	"math"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"
)

func TestResolveTarget(t *testing.T) {
	web := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "lab"},
		Spec:       corev1.ServiceSpec{ClusterIP: "10.96.0.20", ClusterIPs: []string{"10.96.0.20"}, Ports: []corev1.ServicePort{{Port: 80}}},
	}
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "p", Namespace: "lab"}, Status: corev1.PodStatus{PodIPs: []corev1.PodIP{{IP: "10.244.1.7"}}}}
	c := fake.NewSimpleClientset(web, pod)
	tests := []struct{ target, want, err string }{
		{"web", "http://web.lab.svc.cluster.local:80/", ""},
		{"svc/web", "http://web.lab.svc.cluster.local:80/", ""},
		{"service/web:8080", "http://web.lab.svc.cluster.local:8080/", ""},
		{"http://web/healthz", "http://web/healthz", ""},
		{"http://web.lab.svc.cluster.local:80/", "http://web.lab.svc.cluster.local:80/", ""},
		{"10.96.0.20:80", "http://10.96.0.20:80/", ""},
		{"http://10.244.1.7:8080/", "http://10.244.1.7:8080/", ""},
		{"nosuch", "", `target "nosuch" does not resolve: no Service nosuch in namespace lab (Services there: web)`},
		{"http://other.elsewhere/", "", "no Service other in namespace elsewhere"},
		{"web:http", "", `"http" is not a port`},
		{"192.0.2.1:80", "", "neither a Service's ClusterIP nor a pod IP"},
		{"http://192.0.2.1/", "", "neither a Service's ClusterIP nor a pod IP"},
		{"10.96.0.20", "", "an IP needs a port"},
		{"ftp://web/", "", "not an http(s) URL"},
		// Only a Service's own DNS names: a host that merely starts like
		// one is refused before any request.
		{"http://web.lab.svc/", "http://web.lab.svc/", ""},
		{"web.lab", "http://web.lab.svc.cluster.local:80/", ""},
		{"http://web.lab.evil.com/", "", `"web.lab.evil.com" is not a Service name`},
		{"http://web.lab.svc.evil.com/", "", "is not a Service name"},
		{"web.lab.svc.cluster.local.evil.com:80", "", "is not a Service name"},
		{"http://web.lab.svc.cluster/", "", "is not a Service name"},
	}
	for _, tc := range tests {
		got, err := resolveTarget(context.Background(), c, "lab", tc.target)
		switch {
		case tc.err == "" && (err != nil || got != tc.want):
			t.Errorf("resolveTarget(%q) = %q, %v; want %q", tc.target, got, err, tc.want)
		case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
			t.Errorf("resolveTarget(%q) = %q, %v; want error containing %q", tc.target, got, err, tc.err)
		}
	}
}

func TestLoadOptionsValidate(t *testing.T) {
	ok := LoadOptions{Target: "web", Concurrency: 1}
	if err := ok.Validate(); err != nil {
		t.Fatal(err)
	}
	for _, o := range []LoadOptions{
		{Concurrency: 1},
		{Target: "web", Concurrency: 0},
		{Target: "web", Concurrency: 1, Duration: MaxLoadDuration + 1},
		{Target: "web", Concurrency: 1, Rate: -1},
		{Target: "web", Concurrency: 1, Requests: -5},
		{Target: "web", Concurrency: 1, Rate: 2e9},
		{Target: "web", Concurrency: 1, Rate: math.Inf(1)},
		{Target: "web", Concurrency: 1, Rate: math.NaN()},
	} {
		if err := o.Validate(); err == nil {
			t.Errorf("Validate(%+v): want an error", o)
		}
	}
}
