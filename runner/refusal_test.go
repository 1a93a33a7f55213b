package runner

import (
	"strings"
	"testing"
)

func TestExplainRefusal(t *testing.T) {
	for _, tc := range []struct {
		name, out string
		want      []string
	}{
		{"pod security", `Error from server (Forbidden): error when creating "p.yaml": pods "p" is forbidden: violates PodSecurity "baseline:latest": privileged (container "c" must not set securityContext.privileged=true)`,
			[]string{"Pod Security", "baseline level", "privileged (container", "labs join --leave"}},
		{"quota", `Error from server (Forbidden): pods "big" is forbidden: exceeded quota: labs-budget, requested: requests.memory=2Gi, used: requests.memory=64Mi, limited: requests.memory=512Mi`,
			[]string{"quota labs-budget", "allows requests.memory=512Mi", "requests.memory=64Mi is in use", "asks for requests.memory=2Gi", "labs reset"}},
		{"quota, two resources", `Error from server (Forbidden): error when creating "big.yaml": pods "big" is forbidden: exceeded quota: labs-budget, requested: limits.memory=2Gi,requests.memory=2Gi, used: limits.memory=0,requests.memory=0, limited: limits.memory=1Gi,requests.memory=512Mi`,
			[]string{"quota labs-budget", "allows limits.memory=1Gi,requests.memory=512Mi", "asks for limits.memory=2Gi,requests.memory=2Gi"}},
		{"other", `Error from server (NotFound): pods "x" not found`, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := ExplainRefusal(tc.out)
			if len(tc.want) == 0 && got != "" {
				t.Fatalf("ExplainRefusal(%q) = %q, want nothing", tc.out, got)
			}
			for _, w := range tc.want {
				if !strings.Contains(got, w) {
					t.Errorf("ExplainRefusal(%q) = %q, want it to contain %q", tc.out, got, w)
				}
			}
		})
	}
}
