package class

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta/testrestmapper"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	dynamicfake "k8s.io/client-go/dynamic/fake"
	"k8s.io/client-go/kubernetes/fake"
	"k8s.io/client-go/kubernetes/scheme"

	"github.com/labs-dev/labs/content"
	"github.com/labs-dev/labs/runner"
	"github.com/labs-dev/labs/runner/classview"
)

const threeSteps = `---
id: flags
title: Flags
summary: s
namespace: flags
scope: namespace
duration: 15m
---

## One

` + "```check\n- type: object\n  kind: ConfigMap\n  name: one\n```\n\n```solve\nkubectl create configmap one\n```" + `

## Two

` + "```check\n- type: object\n  kind: ConfigMap\n  name: two\n```\n\n```solve\nkubectl create configmap two\n```" + `

## Three

` + "```check\n- type: object\n  kind: ConfigMap\n  name: three\n```\n\n```solve\nkubectl create configmap three\n```\n"

func learnerNS(name string) *corev1.Namespace {
	return &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "c-" + name, Labels: map[string]string{LabelClass: "c", LabelLearner: name, LabelManaged: "labs"}}}
}

func progressCM(t *testing.T, name string, step int, done []bool) *corev1.ConfigMap {
	t.Helper()
	p := runner.Progress{Lab: "flags", Step: step, Done: done, Updated: time.Now()}
	for i := 0; i <= step; i++ {
		p.History = append(p.History, runner.Record{At: time.Now().Add(time.Duration(i-10) * time.Second), Step: i + 1, What: "enter"})
	}
	b, _ := json.Marshal(p)
	return &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: runner.ProgressConfigMap, Namespace: "c-" + name}, Data: map[string]string{"current": "flags", "flags.json": string(b)}}
}

func flagCM(ns, name string) *corev1.ConfigMap {
	return &corev1.ConfigMap{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "ConfigMap"}, ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns}}
}

// The server shows a learner where it saw them get: one who does the work
// is vouched for step by step; one who edits their progress ConfigMap to
// claim step 3 stays shown at the step they really are on.
func TestWatcherVouchesOnlyForWhatItSaw(t *testing.T) {
	lab, err := content.Parse("flags.md", []byte(threeSteps))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c := fake.NewSimpleClientset(&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: AccountsNamespace("c")}}, learnerNS("ana"), learnerNS("bo"), progressCM(t, "ana", 0, []bool{false, false, false}), progressCM(t, "bo", 0, []bool{false, false, false}))
	sch := runtime.NewScheme()
	_ = corev1.AddToScheme(sch)
	dyn := dynamicfake.NewSimpleDynamicClient(sch)
	board := classview.NewBoard("c", []classview.Lab{{ID: "flags", Steps: []string{"One", "Two", "Three"}}})
	w := &Watcher{Client: c, Dynamic: dyn, Mapper: testrestmapper.TestOnlyStaticRESTMapper(scheme.Scheme), Class: "c", Board: board,
		Labs: func(string) (*content.Lab, error) { return lab, nil }}
	ready := make(chan struct{})
	go func() { _ = w.Run(ctx, ready) }()
	<-ready
	row := func(who string) classview.Row {
		for _, r := range board.View().Learners {
			if r.Learner == who {
				return r
			}
		}
		return classview.Row{}
	}
	eventually := func(what string, ok func() bool) {
		t.Helper()
		for !ok() {
			select {
			case <-ctx.Done():
				t.Fatalf("%s: never; ana %+v, bo %+v", what, row("ana"), row("bo"))
			case <-time.After(20 * time.Millisecond):
			}
		}
	}
	eventually("both on step 1, failing", func() bool { return row("ana").Verdict == "failing" && row("bo").Verdict == "failing" })

	cms := dyn.Resource(corev1.SchemeGroupVersion.WithResource("configmaps"))
	put := func(ns, name string) {
		u, _ := runtime.DefaultUnstructuredConverter.ToUnstructured(flagCM(ns, name))
		if _, err := cms.Namespace(ns).Create(ctx, &unstructured.Unstructured{Object: u}, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	// ana does step 1; the server sees it pass; then her labs moves on.
	put("c-ana", "one")
	eventually("ana's step 1 passing", func() bool { return row("ana").Verdict == "passing" })
	if _, err := c.CoreV1().ConfigMaps("c-ana").Update(ctx, progressCM(t, "ana", 1, []bool{true, false, false}), metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	eventually("ana on step 2", func() bool { r := row("ana"); return r.Step == 2 && r.Claimed == 2 })

	// bo edits his ConfigMap: step 3, the first two done.
	if _, err := c.CoreV1().ConfigMaps("c-bo").Update(ctx, progressCM(t, "bo", 2, []bool{true, true, false}), metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	eventually("bo's claim read", func() bool { return row("bo").Claimed == 3 })
	time.Sleep(200 * time.Millisecond)
	if r := row("bo"); r.Step != 1 {
		t.Fatalf("bo claims step 3 having done nothing: shown at %d, want 1 (%+v)", r.Step, r)
	}

	// Step 99 of a 3-step lab, everything done: nothing is believed.
	if _, err := c.CoreV1().ConfigMaps("c-bo").Update(ctx, progressCM(t, "bo", 98, []bool{true, true, true}), metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	eventually("bo's step 99 read", func() bool { return row("bo").Claimed == 99 })
	time.Sleep(200 * time.Millisecond)
	if r := row("bo"); r.Step != 1 || r.Finished {
		t.Fatalf("bo claims step 99: %+v, want shown at step 1", r)
	}
	if _, err := c.CoreV1().ConfigMaps("c-bo").Update(ctx, progressCM(t, "bo", 2, []bool{true, true, false}), metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	// A learner who appears after the server started gets no credit for
	// what their first progress says.
	if _, err := c.CoreV1().Namespaces().Create(ctx, learnerNS("cy"), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond)
	if _, err := c.CoreV1().ConfigMaps("c-cy").Create(ctx, progressCM(t, "cy", 2, []bool{true, true, false}), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	eventually("cy's progress read", func() bool { return row("cy").Claimed == 3 })
	time.Sleep(200 * time.Millisecond)
	if r := row("cy"); r.Step != 1 {
		t.Fatalf("cy, new after the start, claims step 3: shown at %d, want 1", r.Step)
	}

	// A restarted server believes no more than the one before it.
	cancel()
	ctx, cancel = context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	board = classview.NewBoard("c", []classview.Lab{{ID: "flags", Steps: []string{"One", "Two", "Three"}}})
	w = &Watcher{Client: c, Dynamic: dyn, Mapper: testrestmapper.TestOnlyStaticRESTMapper(scheme.Scheme), Class: "c", Board: board,
		Labs: func(string) (*content.Lab, error) { return lab, nil }}
	ready = make(chan struct{})
	go func() { _ = w.Run(ctx, ready) }()
	<-ready
	if r := row("bo"); r.Step != 1 || r.Claimed != 3 {
		t.Fatalf("after a restart bo is shown at %d (claims %d), want 1", r.Step, r.Claimed)
	}
	if r := row("ana"); r.Step != 2 {
		t.Fatalf("after a restart ana is shown at %d, want 2", r.Step)
	}
}
