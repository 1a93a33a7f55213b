package content

import (
	"errors"
	"io/fs"
	"testing"

	"github.com/labs-dev/labs/labs"
)

// FuzzParse: any bytes either parse into a lab with steps or fail with a
// ParseError pointing at a line of the file; never a panic or a hang.
// `make fuzz` runs it; the built-in labs are its seeds.
func FuzzParse(f *testing.F) {
	names, _ := fs.Glob(labs.FS, "*.md")
	for _, n := range names {
		if b, err := fs.ReadFile(labs.FS, n); err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte("---\nid: a\ntitle: t\nsummary: s\nnamespace: a\n---\n## x\n```check\n- {type: pod-count, selector: a=b, count: 1}\n```\n```solve\ntrue\n```\n"))
	f.Fuzz(func(t *testing.T, src []byte) {
		lab, err := Parse("fuzz.md", src)
		if err != nil {
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("error is not a ParseError: %v", err)
			}
			if pe.Line < 1 {
				t.Fatalf("error points at line %d: %v", pe.Line, err)
			}
			return
		}
		if len(lab.Steps) == 0 {
			t.Fatal("a lab without steps parsed")
		}
		for _, s := range lab.Steps {
			if len(s.Checks) == 0 || s.Solve == "" {
				t.Fatalf("step %q parsed without a check or a solve", s.Title)
			}
		}
	})
}
