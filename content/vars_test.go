package content

import (
	"reflect"
	"strings"
	"testing"
)

const fm = "---\nid: x\ntitle: t\nsummary: s\nnamespace: n\n---\n"

const captureStep = "## Cordon one\n\nCordon a worker of your choice.\n\n```check\n" +
	"- type: object\n  kind: Node\n  selector: kubernetes.io/hostname\n  expr: \"objects.filter(n, n.spec.?unschedulable.orValue(false)).size() == 1\"\n" +
	"  capture: {CORDONED: \"objects.filter(n, n.spec.?unschedulable.orValue(false))[0].metadata.name\"}\n```\n\n```solve\nkubectl cordon \"$LAB_WORKER_1\"\n```\n\n"

func useStep(prose, check string) string {
	return "## Use it\n\n" + prose + "\n\n```check\n" + check + "\n```\n\n```solve\nkubectl drain \"$CORDONED\"\n```\n"
}

// A later step may name what an earlier step's check captured, in its
// text, checks and hint; anything else named ${UPPER} is a typo found now.
func TestCapturedNamesAcrossSteps(t *testing.T) {
	src := fm + "Workers: ${LAB_WORKER_1}, ${LAB_WORKER_2}.\n\n" + captureStep +
		useStep("    labs kubectl drain ${CORDONED} --ignore-daemonsets\n\nThe shell's own ${node} is left alone.",
			"- {type: object, kind: Node, name: '${CORDONED}', match: {spec: {unschedulable: true}}}\n- {type: exec, pod: p, command: 'echo ${GREETING}', stdout: hi}")
	lab, err := Parse("x.md", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	if want := map[string]int{"CORDONED": 0}; !reflect.DeepEqual(lab.Captures, want) {
		t.Fatalf("Captures = %v, want %v", lab.Captures, want)
	}

	for _, tc := range []struct{ name, src, want string }{
		{"used before it is captured", fm + useStep("drain ${CORDONED}", "- {type: pod-count, selector: a=b, count: 1}") + "\n" + captureStep,
			"x.md:9: ${CORDONED} is not captured by an earlier step"},
		{"in a check before it is captured", fm + useStep("text", "- {type: object, kind: Node, name: '${CORDONED}'}"),
			"x.md:11: check 1: ${CORDONED} is not captured by an earlier step"},
		{"in its own step", fm + strings.Replace(captureStep, "Cordon a worker of your choice.", "You cordoned ${CORDONED}.", 1),
			"${CORDONED} is captured by this step's own check; only later steps can use it"},
		{"in a hint", fm + captureStep + useStep("text", "- {type: pod-count, selector: a=b, count: 1}") + "```hint\ntry ${DRAINED}\n```\n",
			"hint: ${DRAINED} is not captured"},
		{"a fact that does not exist", fm + "On ${LAB_WORKER_ONE}.\n\n" + captureStep, "x.md:7: ${LAB_WORKER_ONE} is not a fact labs provides"},
		{"captured twice", fm + captureStep + strings.Replace(captureStep, "Cordon one", "Again", 1), "${CORDONED} is captured by step 1 already"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("x.md", []byte(tc.src))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Parse = %v, want an error containing %q", err, tc.want)
			}
		})
	}
}
