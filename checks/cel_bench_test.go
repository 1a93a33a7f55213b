package checks

import "testing"

// BenchmarkCompileObjectCheck is what reading a lab costs per CEL check:
// every built-in lab's checks are compiled when labs starts.
func BenchmarkCompileObjectCheck(b *testing.B) {
	src := []byte(`- type: object
  description: one worker is cordoned
  kind: Node
  selector: "!node-role.kubernetes.io/control-plane"
  expr: "objects.filter(n, n.spec.?unschedulable.orValue(false)).size() == 1"
  capture:
    CORDONED: "objects.filter(n, n.spec.?unschedulable.orValue(false))[0].metadata.name"
`)
	for i := 0; i < b.N; i++ {
		if _, err := ParseSpecs(src); err != nil {
			b.Fatal(err)
		}
	}
}
