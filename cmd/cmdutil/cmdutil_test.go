package cmdutil

import (
	"bytes"
	"testing"
)

func TestColorWanted(t *testing.T) {
	for _, tc := range []struct {
		name string
		env  map[string]string
		want bool
	}{
		{"plain terminal", map[string]string{"TERM": "xterm-256color"}, true},
		{"NO_COLOR", map[string]string{"TERM": "xterm", "NO_COLOR": "1"}, false},
		{"TERM=dumb", map[string]string{"TERM": "dumb"}, false},
		{"no TERM", map[string]string{}, true},
	} {
		getenv := func(k string) string { return tc.env[k] }
		if got := ColorWanted(getenv); got != tc.want {
			t.Errorf("%s: ColorWanted = %v, want %v", tc.name, got, tc.want)
		}
	}
}

// Colour and "can we ask" are different questions: a buffer is never a
// terminal, whatever the environment says.
func TestNotATerminal(t *testing.T) {
	f := &Factory{Streams: IOStreams{In: &bytes.Buffer{}, Out: &bytes.Buffer{}}, Getenv: func(string) string { return "" }}
	if f.CanPrompt() || f.Color(f.Streams.Out) {
		t.Errorf("a buffer counted as a terminal")
	}
}
