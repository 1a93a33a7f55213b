package runner

import (
	"regexp"
	"strings"
)

var (
	podSecurityRefusal = regexp.MustCompile(`violates PodSecurity "([a-z]+):[^"]*": ([^\n]+)`)
	// Several resources over: each list is comma-joined without spaces.
	quotaRefusal = regexp.MustCompile(`exceeded quota: ([^,]+), requested: (\S+), used: (\S+), limited: ([^\s"]+)`)
)

// ExplainRefusal is labs' one sentence about an admission refusal in what
// kubectl printed (a Pod Security level, a full quota), "" when there is
// none: the API server's text names the rule, not what to do.
func ExplainRefusal(output string) string {
	if m := podSecurityRefusal.FindStringSubmatch(output); m != nil {
		return "labs: refused by Pod Security: this namespace enforces the " + m[1] + " level, and the pod asks for " + strings.TrimSpace(m[2]) +
			"; drop those settings from the manifest, or run this lab on your own machine's cluster (`labs join --leave`)"
	}
	if m := quotaRefusal.FindStringSubmatch(output); m != nil {
		return "labs: refused by the namespace's quota " + m[1] + ": it allows " + strings.TrimSpace(m[4]) + ", " + strings.TrimSpace(m[3]) +
			" is in use and this asks for " + strings.TrimSpace(m[2]) + "; delete what you no longer need (`labs kubectl get pods`), or `labs reset` empties the namespace"
	}
	return ""
}
