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
