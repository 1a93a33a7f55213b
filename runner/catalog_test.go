package runner

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/labs-dev/labs/labs"
)

// Every built-in lab parses, its id matches its file, and each translation
// has its original.
func TestBuiltinLabsLoad(t *testing.T) {
	cat, err := LoadCatalog(Source{Origin: BuiltIn, FS: labs.FS})
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range cat.Broken() {
		t.Errorf("broken built-in lab %s: %v", b.File, b.Err)
	}
	if len(cat.All()) == 0 {
		t.Fatal("no built-in labs")
	}
	if _, err := cat.Find("selfhealing"); err != nil {
		t.Fatal(err)
	}
	_, err = cat.Find("selfhaeling")
	if !errors.Is(err, ErrUnknownLab) || !strings.Contains(err.Error(), "selfhealing") {
		t.Fatalf("Find(typo) = %v, want ErrUnknownLab listing the labs", err)
	}
}

func demoIn(id, title string) []byte {
	return []byte(strings.Replace(strings.Replace(demoLab, "id: demo", "id: "+id, 1), "title: Demo", "title: "+title, 1))
}

// A broken or misnamed file is set aside with its reason; the others load.
func TestCatalogKeepsBrokenFilesAside(t *testing.T) {
	fsys := fstest.MapFS{
		"a.md":    {Data: []byte(demoLab)},          // id demo in a.md
		"bad.md":  {Data: []byte("---\nid: bad\n")}, // front matter not closed
		"demo.md": {Data: []byte(demoLab)},          // fine
		"x.ko.md": {Data: demoIn("x", "번역")},        // translation without x.md
	}
	cat, err := LoadCatalog(Source{Origin: "/course", FS: fsys})
	if err != nil {
		t.Fatal(err)
	}
	if len(cat.All()) != 1 || cat.All()[0].ID != "demo" {
		t.Fatalf("labs = %v, want only demo", cat.All())
	}
	got := map[string]string{}
	for _, b := range cat.Broken() {
		got[b.File] = b.Err.Error()
	}
	for file, want := range map[string]string{"a.md": `must match the file name "a"`, "bad.md": "not closed", "x.ko.md": "needs its original x.md"} {
		if !strings.Contains(got[file], want) {
			t.Errorf("broken %s = %q, want it to say %q", file, got[file], want)
		}
	}
	if _, err := cat.Find("bad"); err == nil || !strings.Contains(err.Error(), "/course/bad.md could not be loaded") {
		t.Errorf("Find(bad) = %v, want it to name the broken file", err)
	}
}

// Two labs with one id: using the id is an error naming both files; it is
// listed as broken; the other labs still load.
func TestCatalogNameClash(t *testing.T) {
	cat, err := LoadCatalog(
		Source{Origin: BuiltIn, FS: fstest.MapFS{"demo.md": {Data: []byte(demoLab)}}},
		Source{Origin: "/course", FS: fstest.MapFS{"demo.md": {Data: []byte(demoLab)}, "other.md": {Data: demoIn("other", "Other")}}},
	)
	if err != nil {
		t.Fatal(err)
	}
	const want = "built-in demo.md and /course/demo.md"
	if _, err := cat.Find("demo"); err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("Find(demo) = %v, want a clash naming both files", err)
	}
	if len(cat.Broken()) != 1 || !strings.Contains(cat.Broken()[0].Err.Error(), want) {
		t.Errorf("Broken = %v", cat.Broken())
	}
	if _, err := cat.Find("other"); err != nil {
		t.Errorf("Find(other) = %v", err)
	}
	if f := cat.FileOf("other"); f != "/course/other.md" {
		t.Errorf("FileOf(other) = %q: a lab from a folder is started by its path", f)
	}
}

// Find returns the translation in the catalog's language, else the original;
// a lab file's translation beside it is found the same way.
func TestCatalogLanguage(t *testing.T) {
	cat, err := LoadCatalog(Source{Origin: BuiltIn, FS: fstest.MapFS{"demo.md": {Data: []byte(demoLab)}, "demo.ko.md": {Data: demoIn("demo", "데모")}}})
	if err != nil {
		t.Fatal(err)
	}
	for lang, want := range map[string]string{"": "Demo", "ko": "데모", "ja": "Demo"} {
		cat.Lang = lang
		l, err := cat.Find("demo")
		if err != nil || l.Title != want {
			t.Errorf("lang %q: Find = %v, %v; want title %q", lang, l, err, want)
		}
	}
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "draft.md"), demoIn("draft", "Draft"), 0o644)
	os.WriteFile(filepath.Join(dir, "draft.ko.md"), demoIn("draft", "초안"), 0o644)
	cat.Lang = "ko"
	if l, err := cat.Find(filepath.Join(dir, "draft.md")); err != nil || l.Title != "초안" {
		t.Errorf("Find(draft.md) in ko = %v, %v", l, err)
	}
	cat.Lang = ""
	if l, err := cat.Find(filepath.Join(dir, "draft.md")); err != nil || l.Title != "Draft" {
		t.Errorf("Find(draft.md) = %v, %v", l, err)
	}
}

// A linted source (the built-in labs) loads without compiling its checks:
// a check whose CEL does not compile still loads there, with its capture
// declared, while the same file in a folder is set aside as broken.
func TestLintedSourceSkipsCheckCompile(t *testing.T) {
	lab := "---\nid: demo\ntitle: Demo\nsummary: s\nnamespace: demo\n---\n" +
		"## One\n```check\n- {type: object, kind: Node, expr: 'object.spec.(', capture: {NODE: 'object.metadata.name'}}\n```\n```solve\ntrue\n```\n" +
		"## Two\nCordon ${NODE}.\n```check\n- {type: object, kind: Node, name: '${NODE}', expr: 'true'}\n```\n```solve\ntrue\n```\n"
	fsys := fstest.MapFS{"demo.md": {Data: []byte(lab)}}
	folder, err := LoadCatalog(Source{Origin: "/course", FS: fsys})
	if err != nil {
		t.Fatal(err)
	}
	if len(folder.Broken()) != 1 || !strings.Contains(folder.Broken()[0].Err.Error(), "expr") {
		t.Fatalf("folder: broken = %v, want demo.md refused for its expr", folder.Broken())
	}
	linted, err := LoadCatalog(Source{Origin: BuiltIn, FS: fsys, Linted: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(linted.Broken()) != 0 || len(linted.All()) != 1 {
		t.Fatalf("linted: labs %v, broken %v; want demo loaded", linted.All(), linted.Broken())
	}
	if got := linted.All()[0].Captures; len(got) != 1 || got["NODE"] != 0 {
		t.Fatalf("captures = %v, want NODE from step 1", got)
	}
}

// What loading the catalog costs a command such as `labs list`: the
// built-in labs as the binary loads them (linted) and fully validated.
func BenchmarkLoadCatalog(b *testing.B) {
	for _, linted := range []bool{true, false} {
		b.Run(map[bool]string{true: "linted", false: "validated"}[linted], func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				if _, err := LoadCatalogIn("", nil, Source{Origin: BuiltIn, FS: labs.FS, Linted: linted}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// A learner reading English does not pay for parsing the built-in labs'
// Korean files: they are listed (labs list shows the language) but not
// parsed; a learner reading Korean gets them parsed; a folder's
// translations are always parsed (and checked).
func TestLoadCatalogInParsesOnlyTheLearnersLanguage(t *testing.T) {
	ko := strings.Replace(demoLab, "title: Demo", "title: 데모", 1)
	fsys := fstest.MapFS{"demo.md": {Data: []byte(demoLab)}, "demo.ko.md": {Data: []byte(ko)}}
	en, err := LoadCatalogIn("", nil, Source{Origin: BuiltIn, FS: fsys, Linted: true})
	if err != nil {
		t.Fatal(err)
	}
	e := en.Entry("demo")
	if tr, listed := e.Translations["ko"]; !listed || tr != nil || e.In("ko").Title != "Demo" || !en.Languages()["ko"] {
		t.Fatalf("English learner: ko listed %v, parsed %v", listed, tr != nil)
	}
	kor, err := LoadCatalogIn("ko", nil, Source{Origin: BuiltIn, FS: fsys, Linted: true})
	if err != nil {
		t.Fatal(err)
	}
	if got := kor.Entry("demo").In("ko").Title; got != "데모" || kor.Lang != "ko" {
		t.Fatalf("Korean learner: title %q, lang %q", got, kor.Lang)
	}
	folder, err := LoadCatalogIn("", nil, Source{Origin: "/course", FS: fsys})
	if err != nil {
		t.Fatal(err)
	}
	if folder.Entry("demo").Translations["ko"] == nil {
		t.Fatal("a folder's translation was not parsed")
	}
}
