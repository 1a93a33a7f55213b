package content

import (
	"strings"
	"testing"
)

// Hangul takes two columns; colour escapes none: the columns after them
// still line up on screen.
func TestTableAlignsByDisplayWidth(t *testing.T) {
	tb := NewTable("LAB", "TITLE", "STEPS")
	tb.Row("selfhealing", "자가 치유", "7")
	tb.Row("nodes", "Nodes", "\x1b[31m7\x1b[0m")
	tb.Row("x", "", "")
	var b strings.Builder
	if err := tb.Write(&b); err != nil {
		t.Fatal(err)
	}
	want := "LAB          TITLE      STEPS\n" +
		"selfhealing  자가 치유  7\n" +
		"nodes        Nodes      \x1b[31m7\x1b[0m\n" +
		"x\n"
	if b.String() != want {
		t.Fatalf("got\n%s\nwant\n%s", b.String(), want)
	}
	if Width("자가 치유") != 9 || Width("\x1b[1mab\x1b[0m") != 2 {
		t.Fatalf("Width wrong: %d %d", Width("자가 치유"), Width("\x1b[1mab\x1b[0m"))
	}
}

// A Korean paragraph wraps at the terminal's width in columns: each line
// fills most of it (not half, as counting runes would leave) and none
// passes it.
func TestKoreanParagraphWrapsByColumns(t *testing.T) {
	para := strings.Repeat("쿠버네티스는 컨테이너를 단순히 실행하기만 하는 것이 아닙니다. ", 8)
	lab, err := Parse("k.md", []byte("---\nid: k\ntitle: k\nsummary: s\nnamespace: k\n---\n## 단계\n"+para+"\n```check\n- {type: pod-count, selector: a=b, count: 1}\n```\n```solve\ntrue\n```\n"))
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	if err := Render(&b, lab.Steps[0].Prose, Style{Width: 80}); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(b.String()), "\n")
	for i, l := range lines {
		if w := Width(l); w > 80 || (i < len(lines)-1 && w < 70) {
			t.Errorf("line %d is %d columns: %q", i+1, w, l)
		}
	}
}
