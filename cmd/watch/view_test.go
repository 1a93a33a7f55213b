package watch

import (
	"flag"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/labs-dev/labs/content"

	"github.com/labs-dev/labs/assets/labapp/loadreport"
	"github.com/labs-dev/labs/runner"
)

var update = flag.Bool("update", false, "rewrite the golden frames in testdata/")

const stepText = `A pod is disposable. Delete one of them:

    labs kubectl get pods -o wide
    labs kubectl delete pod <one of the web pods>

Run labs kubectl get pods again: still three pods, but one has a new name
and a young AGE. The ReplicaSet saw actual = 2, desired = 3, and created a
pod. Nobody had to intervene: that is the control loop. Observe, analyze,
act.`

// fixture is a screen in the middle of a step: one check passed, one not,
// warnings among the events, the OOMKilled one last.
func fixture(w, h int) *screen { return fixtureIn("", w, h) }

// fixtureIn is the fixture with the screen's own words in lang.
func fixtureIn(lang string, w, h int) *screen {
	s := &screen{width: w, height: h, lang: lang}
	s.apply(runner.WatchStep{Lab: "selfhealing", LabTitle: "Self-healing pods", Namespace: "selfhealing", Step: 2, Steps: 7,
		Title: "Delete a pod and watch it come back", Render: func(int) string { return stepText }})
	s.apply(runner.WatchChecks{Step: 2, Checks: []runner.CheckOutcome{
		{Expected: "a pod matching app=web was replaced by a new one (new UID) since the step started", Found: "the same 3 pods as at the start of the step (no UID changed)"},
		{Expected: "Deployment web has 3 available replicas", Found: "3 available", Passed: true},
	}})
	t0 := time.Date(2026, 11, 27, 10, 0, 0, 0, time.Local)
	for i, e := range []runner.EventLine{
		{Type: "Normal", Reason: "Scheduled", Object: "Pod/web-6b794bdc96-c2xk4", Message: "Successfully assigned selfhealing/web-6b794bdc96-c2xk4 to labs-worker"},
		{Type: "Normal", Reason: "Started", Object: "Pod/web-6b794bdc96-c2xk4", Message: "Started container web"},
		{Type: "Warning", Reason: "Unhealthy", Object: "Pod/probe-986dd84f4-nlcn5", Message: "Liveness probe failed: HTTP probe failed with statuscode: 503", Count: 2},
		{Type: "Warning", Reason: "BackOff", Object: "Pod/crash-5d8f7c9b4-x2x9z", Message: "Back-off restarting failed container crash"},
		{Type: "Warning", Reason: "OOMKilling", Object: "Node/labs-worker2", Message: "Memory cgroup out of memory: Killed process 4242 (labapp)"},
	} {
		e.Time = t0.Add(time.Duration(i) * time.Second)
		s.apply(e)
	}
	// A load in another terminal while a pod dies: the dip and recovery.
	total, failed := int64(0), int64(0)
	for i, rps := range []float64{400, 410, 120, 0, 260, 405} {
		total += int64(rps) + 10
		if rps < 400 {
			failed += int64(400-rps) / 10
		}
		s.apply(runner.WatchLoad{Pod: "labs-load-x7k2p", Progress: loadreport.Progress{ElapsedSeconds: float64(i + 1), Transactions: total, Failed: failed,
			RPS: rps, P50: 1.2, P95: 4.8 + float64(i%3), P99: 18, InFlight: 4, Reasons: map[string]int64{"connection refused": failed}}})
	}
	s.apply(runner.WatchStatus{Text: content.Tr(lang, "the cluster answers again: watching")})
	return s
}

// Golden frames: the layout at the sizes learners use; a size change
// that moves a line shows in the diff.
// Korean frames at the common and the smallest size: a Hangul syllable
// is two columns, and every line must still fit.
func TestGoldenFrames(t *testing.T) {
	for _, size := range [][3]any{{"", 80, 24}, {"", 120, 40}, {"", 40, 10}, {"ko", 80, 24}, {"ko", 40, 10}} {
		lang, w, h := size[0].(string), size[1].(int), size[2].(int)
		t.Run(filepath.Base(golden(lang, w, h)), func(t *testing.T) {
			frame := fixtureIn(lang, w, h).view()
			lines := strings.Split(frame, "\n")
			if len(lines) != h {
				t.Errorf("%d lines, want the terminal's %d", len(lines), h)
			}
			for i, l := range lines {
				if content.Width(l) > w {
					t.Errorf("line %d is %d columns wide, over %d: %q", i+1, content.Width(l), w, l)
				}
			}
			path := golden(lang, w, h)
			if *update {
				if err := os.WriteFile(path, []byte(frame+"\n"), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if frame+"\n" != string(want) {
				t.Errorf("frame differs from %s (go test ./cmd/watch -update):\n%s", path, frame)
			}
		})
	}
}

func golden(lang string, w, h int) string {
	if lang != "" {
		lang += "-"
	}
	return filepath.Join("testdata", fmt.Sprintf("frame-%s%dx%d.golden", lang, w, h))
}

// Every sentence labs watch says of its own (the screen, --plain, the
// runner's statuses) has its Korean: a text passed to tr without one
// fails here.
func TestWatchWordsAreTranslated(t *testing.T) {
	fset := token.NewFileSet()
	files, _ := filepath.Glob("*.go")
	files = append(files, "../../runner/watch.go")
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		consts := map[string]string{}
		ast.Inspect(f, func(n ast.Node) bool {
			if v, ok := n.(*ast.ValueSpec); ok && len(v.Values) == 1 {
				if lit, ok := v.Values[0].(*ast.BasicLit); ok && lit.Kind == token.STRING {
					consts[v.Names[0].Name], _ = strconv.Unquote(lit.Value)
				}
			}
			return true
		})
		n := 0
		ast.Inspect(f, func(node ast.Node) bool {
			call, ok := node.(*ast.CallExpr)
			if !ok || len(call.Args) != 1 {
				return true
			}
			if sel, ok := call.Fun.(*ast.SelectorExpr); !ok || sel.Sel.Name != "tr" {
				return true
			}
			var text string
			switch a := call.Args[0].(type) {
			case *ast.BasicLit:
				text, _ = strconv.Unquote(a.Value)
			case *ast.Ident:
				text = consts[a.Name]
			default:
				t.Errorf("%s: tr of a computed text cannot be checked", fset.Position(call.Pos()))
				return true
			}
			n++
			if content.Tr("ko", text) == text {
				t.Errorf("%s: no Korean for %q (content/messages.go)", fset.Position(call.Pos()), text)
			}
			return true
		})
		if n == 0 && !strings.HasSuffix(name, "watch.go") {
			continue
		}
		if n == 0 {
			t.Errorf("%s: no tr calls found: is the test still reading the right file?", name)
		}
	}
}

// What a small terminal keeps: the header, every check, the help line.
func TestSmallTerminalKeepsChecks(t *testing.T) {
	frame := fixture(40, 10).view()
	for _, want := range []string{"labs watch · Self-healing", "✗ a pod matching", "✓ Deployment web has 3", "h hint · s solve"} {
		if !strings.Contains(frame, want) {
			t.Errorf("40×10 frame lacks %q:\n%s", want, frame)
		}
	}
}

// A passed step shows its green line; the next WatchStep clears the
// checklist and the hint; a Warning event is kept among the newest.
func TestScreenFolding(t *testing.T) {
	s := fixture(80, 24)
	s.apply(runner.WatchHint{Text: "labs kubectl delete pod NAME"})
	s.apply(runner.WatchDone{Step: 2})
	f := s.view()
	if !strings.Contains(f, "✓ Step 2 done: the next step follows") || !strings.Contains(f, "labs kubectl delete pod NAME") {
		t.Fatalf("done and hint not shown:\n%s", f)
	}
	s.apply(runner.WatchStep{Lab: "selfhealing", LabTitle: "Self-healing pods", Step: 3, Steps: 7, Title: "Kill PID 1", Render: func(int) string { return "kill it" }})
	f = s.view()
	if strings.Contains(f, "Step 2 done") || strings.Contains(f, "delete pod NAME") || !strings.Contains(f, "… reading the cluster") {
		t.Fatalf("step 3 still shows step 2's state:\n%s", f)
	}
	if !strings.Contains(f, "OOMKilling") {
		t.Fatalf("the newest event is not shown:\n%s", f)
	}
}
