package runner

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"testing/fstest"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"
)

const captureLab = "---\nid: demo\ntitle: Demo\nsummary: s\nnamespace: demo\n---\n" +
	"## Choose\nMake one ConfigMap labelled app=choice, any name.\n```check\n" +
	"- {type: object, kind: ConfigMap, selector: app=choice, count: 1, capture: {CHOSEN: object.metadata.name}, timeout: 1s}\n```\n```solve\ntrue\n```\n" +
	"## Use it\nYou chose ${CHOSEN}.\n```check\n- {type: object, kind: ConfigMap, name: '${CHOSEN}', match: {data: {ok: 'yes'}}, timeout: 1s}\n```\n" +
	"```solve\necho \"the solution sees $CHOSEN\"\n```\n```hint\nLook at ${CHOSEN}.\n```\n"

// What a learner chose in one step (any ConfigMap name) is what the next
// step's text, checks and solution name; a learner who skipped the step
// that captures it is told so instead of a check about the wrong object.
func TestCapturedValueFlowsToLaterSteps(t *testing.T) {
	r, out := startLab(t, captureLab)
	ctx := context.Background()
	createObject(t, r, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "blue", Namespace: "demo", Labels: map[string]string{"app": "choice"}}})
	out.Reset()
	if err := r.Check(ctx, CheckOptions{}); err != nil {
		t.Fatalf("check of step 1: %v\n%s", err, out)
	}
	if !strings.Contains(out.String(), "You chose blue.") {
		t.Errorf("step 2 does not name the learner's choice:\n%s", out)
	}
	p, _ := r.store().Load(context.Background(), "demo")
	if p.Captured["CHOSEN"] != "blue" {
		t.Fatalf("progress captured %v", p.Captured)
	}

	out.Reset()
	err := r.Check(ctx, CheckOptions{})
	if err == nil || !strings.Contains(out.String(), "ConfigMap blue") {
		t.Errorf("step 2's check is not about blue: %v\n%s", err, out)
	}
	out.Reset()
	if err := r.Hint(ctx); err != nil || !strings.Contains(out.String(), "Look at blue.") {
		t.Errorf("hint does not name the learner's choice: %v %q", err, out.String())
	}
	var scriptOut bytes.Buffer
	r.ErrOut = &scriptOut
	if err := r.Solve(ctx); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(scriptOut.String(), "the solution sees blue") {
		t.Errorf("solution's environment lacks CHOSEN: %q", scriptOut.String())
	}

	// A session that never passed step 1 (the learner jumped with goto).
	if err := r.store().Update(ctx, "demo", func(cur *Progress) (*Progress, error) { cur.Captured = nil; return cur, nil }); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	if err := r.Show(ctx); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "You chose <CHOSEN: known once step 1 passes>.") {
		t.Errorf("uncaptured value in text:\n%s", out)
	}
	err = r.Check(ctx, CheckOptions{})
	if err == nil || !strings.Contains(err.Error(), "need ${CHOSEN}, which the check of step 1 records when it passes") || !strings.Contains(err.Error(), "labs goto 1") {
		t.Fatalf("check without the captured value = %v", err)
	}
}

// startLab is a test runner on a fake cluster whose only lab is src (id
// demo), started.
func startLab(t *testing.T, src string) (*Runner, *bytes.Buffer) {
	t.Helper()
	r, _, out := newTestRunner(t, fake.NewSimpleClientset(readyNode()), fakeDocker{})
	cat, err := LoadCatalog(Source{Origin: BuiltIn, FS: fstest.MapFS{"demo.md": {Data: []byte(src)}}})
	if err != nil {
		t.Fatal(err)
	}
	r.Catalog = cat
	if err := r.Start(context.Background(), "demo"); err != nil {
		t.Fatal(err)
	}
	return r, out
}
