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
