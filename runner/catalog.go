package runner

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/labs-dev/labs/content"
)

// ErrUnknownLab is returned for a lab name that no lab has.
var ErrUnknownLab = errors.New("unknown lab")

// BuiltIn names the labs compiled into the binary, where a lab's origin is
// shown.
const BuiltIn = "built-in"

// Source is a folder of labs: the built-in ones, --labs-dir, or an entry of
// LABS_PATH.
type Source struct {
	// Origin is what `labs list` shows: BuiltIn or the folder's path.
	Origin string
	FS     fs.FS
	// Linted: `labs lint` has passed every file (the built-in labs, linted
	// by `make test`), so loading them skips compiling their checks.
	Linted bool
}

// DirSource is a folder of lab files on disk.
func DirSource(dir string) Source { return Source{Origin: dir, FS: os.DirFS(dir)} }

// Entry is one lab with its translations.
type Entry struct {
	Lab    *content.Lab // the original
	Origin string
	// File is where the original was read: a file name inside Origin.
	File string
	// Translations by language ("ko"): same steps, checks and solutions,
	// other prose (`labs lint` proves it). A built-in lab's translation
	// into a language other than the catalog's is listed but not parsed
	// (nil): see LoadCatalogIn.
	Translations map[string]*content.Lab
}

// In returns the lab in lang, or the original when it has no such
// translation (or it was not parsed).
func (e *Entry) In(lang string) *content.Lab {
	if t := e.Translations[lang]; t != nil {
		return t
	}
	return e.Lab
}

// Broken is a lab file that could not be loaded; the other labs still are.
type Broken struct {
	Origin string
	File   string
	Err    error
}

// Catalog is the set of labs labs knows.
type Catalog struct {
	entries []*Entry // sorted by id
	broken  []Broken
	// clashes are ids two folders define: using one is the error naming
	// both files, so nobody runs the wrong lab.
	clashes map[string]error
	// Lang is the learner's language: Find returns a lab's translation into
	// it when there is one.
	Lang string
	// rewrite changes a lab file's text before it is parsed.
	rewrite func([]byte) []byte
}

// translationName matches "selfhealing.ko.md": lab id, then language.
var translationName = regexp.MustCompile(`^(.+)\.([a-z]{2})\.md$`)

// LabFileLang splits a lab file name into its id and language ("" for an
// original).
func LabFileLang(name string) (id, lang string) {
	base := path.Base(filepath.ToSlash(name))
	if m := translationName.FindStringSubmatch(base); m != nil {
		return m[1], m[2]
	}
	return strings.TrimSuffix(base, ".md"), ""
}

// LoadCatalog reads every *.md but README.md at the root of each source. A
// file that does not parse is kept aside as Broken (`labs list` shows it);
// two sources with the same lab id make that id an error naming both
// files (the other labs still load).
func LoadCatalog(sources ...Source) (*Catalog, error) {
	return LoadCatalogRewriting(nil, sources...)
}

// LoadCatalogRewriting is LoadCatalog with every lab file's text passed
// through rewrite before it is parsed (a class whose nodes pull the
// workload image from a registry: images.Registry.Rewrite), lab files
// named by path included.
func LoadCatalogRewriting(rewrite func([]byte) []byte, sources ...Source) (*Catalog, error) {
	return loadCatalog(nil, rewrite, sources...)
}

// LoadCatalogIn is LoadCatalogRewriting for a learner who reads lang (""
// for the originals): the translations of linted sources (the built-in
// labs) into other languages are listed, not parsed, since no command of
// this process shows them. Catalog.Lang is lang.
func LoadCatalogIn(lang string, rewrite func([]byte) []byte, sources ...Source) (*Catalog, error) {
	c, err := loadCatalog(&lang, rewrite, sources...)
	if err != nil {
		return nil, err
	}
	c.Lang = lang
	return c, nil
}

// loadCatalog loads the sources; with only set, a linted source's
// translations into another language than *only are not parsed.
func loadCatalog(only *string, rewrite func([]byte) []byte, sources ...Source) (*Catalog, error) {
	c := &Catalog{clashes: map[string]error{}, rewrite: rewrite}
	byID := map[string]*Entry{}
	type pending struct {
		src  Source
		name string
		lab  *content.Lab // nil: not parsed
		lang string
		id   string
	}
	var translations []pending
	for _, src := range sources {
		names, err := fs.Glob(src.FS, "*.md")
		if err != nil {
			return nil, fmt.Errorf("listing labs in %s: %w", src.Origin, err)
		}
		names = slices.DeleteFunc(names, func(n string) bool { return n == "README.md" })
		// Parsing is most of what a command such as `labs list` costs:
		// the files are parsed side by side, then taken in name order.
		labs := make([]*content.Lab, len(names))
		errs := make([]error, len(names))
		var wg sync.WaitGroup
		unread := func(n string) bool {
			_, lang := LabFileLang(n)
			return src.Linted && only != nil && lang != "" && lang != *only
		}
		for i, n := range names {
			if unread(n) {
				continue
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				labs[i], errs[i] = readLab(src.FS, n, src.Linted, rewrite)
			}()
		}
		wg.Wait()
		for i, n := range names {
			lab, err := labs[i], errs[i]
			id, lang := LabFileLang(n)
			if unread(n) {
				// Listed under its language, not parsed (nil).
				translations = append(translations, pending{src, n, nil, lang, id})
				continue
			}
			if err != nil {
				c.broken = append(c.broken, Broken{src.Origin, n, err})
				continue
			}
			if lab.ID != id {
				c.broken = append(c.broken, Broken{src.Origin, n, fmt.Errorf("%s: lab id %q must match the file name %q", n, lab.ID, id)})
				continue
			}
			if lang != "" {
				translations = append(translations, pending{src, n, lab, lang, id})
				continue
			}
			if prev, ok := byID[id]; ok {
				err := fmt.Errorf("two labs are called %q: %s and %s; rename one (its id and file name)", id, originPath(prev.Origin, prev.File), originPath(src.Origin, n))
				c.clashes[id] = err
				c.broken = append(c.broken, Broken{src.Origin, n, err})
				continue
			}
			e := &Entry{Lab: lab, Origin: src.Origin, File: n, Translations: map[string]*content.Lab{}}
			byID[id] = e
			c.entries = append(c.entries, e)
		}
	}
	for _, t := range translations {
		e, ok := byID[t.id]
		if !ok || e.Origin != t.src.Origin {
			why := fmt.Errorf("%s: a translation needs its original %s.md beside it", t.name, t.id)
			for _, b := range c.broken {
				if b.Origin == t.src.Origin && b.File == t.id+".md" {
					why = fmt.Errorf("%s: its original %s.md does not load", t.name, t.id)
				}
			}
			c.broken = append(c.broken, Broken{t.src.Origin, t.name, why})
			continue
		}
		e.Translations[t.lang] = t.lab
	}
	sort.Slice(c.entries, func(i, j int) bool { return c.entries[i].Lab.ID < c.entries[j].Lab.ID })
	return c, nil
}

func readLab(fsys fs.FS, name string, linted bool, rewrite func([]byte) []byte) (*content.Lab, error) {
	f, err := fsys.Open(name)
	if err != nil {
		return nil, fmt.Errorf("reading lab %s: %w", name, err)
	}
	defer f.Close()
	return parseLab(f, name, linted, rewrite)
}

// parseLab reads at most one byte more than a lab may have, so a huge file
// is refused (by content.Parse) without being read whole.
func parseLab(r io.Reader, name string, linted bool, rewrite func([]byte) []byte) (*content.Lab, error) {
	src, err := readLabBytes(r)
	if err != nil {
		return nil, fmt.Errorf("reading lab %s: %w", name, err)
	}
	if rewrite != nil && len(src) <= content.MaxLabSize {
		src = rewrite(src)
	}
	if linted {
		return content.ParseLinted(name, src)
	}
	return content.Parse(name, src)
}

// readLabBytes reads a lab file, at most one byte past the largest a lab
// may be, for content.Parse to refuse.
func readLabBytes(r io.Reader) ([]byte, error) {
	return io.ReadAll(io.LimitReader(r, content.MaxLabSize+1))
}

// originPath names a file for messages: built-in files by name, others by
// path.
func originPath(origin, file string) string {
	if origin == BuiltIn {
		return "built-in " + file
	}
	return filepath.Join(origin, file)
}

// All returns the labs (originals) sorted by id.
func (c *Catalog) All() []*content.Lab {
	out := make([]*content.Lab, len(c.entries))
	for i, e := range c.entries {
		out[i] = e.Lab
	}
	return out
}

// Entries returns the labs with their origin and translations.
func (c *Catalog) Entries() []*Entry { return c.entries }

// Broken returns the lab files that could not be loaded.
func (c *Catalog) Broken() []Broken { return c.broken }

// Find returns the lab called name in the catalog's language, or, if name
// is a path to a .md file, that file parsed (so lab authors can run `labs
// test ./draft.md`); a file's translation beside it (draft.ko.md) is used
// the same way.
func (c *Catalog) Find(name string) (*content.Lab, error) {
	if IsLabFile(name) {
		if c.Lang != "" {
			if _, lang := LabFileLang(name); lang == "" {
				tr := strings.TrimSuffix(name, ".md") + "." + c.Lang + ".md"
				if _, err := os.Stat(tr); err == nil {
					return c.parseFile(tr)
				}
			}
		}
		return c.parseFile(name)
	}
	if err := c.clashes[name]; err != nil {
		return nil, err
	}
	if e := c.Entry(name); e != nil {
		return e.In(c.Lang), nil
	}
	var ids []string
	for _, e := range c.entries {
		ids = append(ids, e.Lab.ID)
	}
	msg := fmt.Sprintf("%s %q: the labs are %s (see `labs list`)", ErrUnknownLab, name, strings.Join(ids, ", "))
	for _, b := range c.broken {
		if id, _ := LabFileLang(b.File); id == name {
			msg += fmt.Sprintf("; %s could not be loaded: %v", originPath(b.Origin, b.File), b.Err)
		}
	}
	return nil, fmt.Errorf("%w%s", ErrUnknownLab, strings.TrimPrefix(msg, ErrUnknownLab.Error()))
}

// Languages are the languages some lab is translated to.
func (c *Catalog) Languages() map[string]bool {
	out := map[string]bool{}
	for _, e := range c.entries {
		for l := range e.Translations {
			out[l] = true
		}
	}
	return out
}

// FileOf is the lab file a lab from a folder (not built in) was read
// from, so later commands find it without --labs-dir; "" for a built-in.
func (c *Catalog) FileOf(id string) string {
	e := c.Entry(id)
	if e == nil || e.Origin == BuiltIn {
		return ""
	}
	p, err := filepath.Abs(filepath.Join(e.Origin, e.File))
	if err != nil {
		return ""
	}
	return p
}

// Entry returns the lab with this id, or nil.
func (c *Catalog) Entry(id string) *Entry {
	for _, e := range c.entries {
		if e.Lab.ID == id {
			return e
		}
	}
	return nil
}

// ParseLabFile reads and parses one lab file on disk.
func ParseLabFile(name string) (*content.Lab, error) {
	return (&Catalog{}).parseFile(name)
}

func (c *Catalog) parseFile(name string) (*content.Lab, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, fmt.Errorf("reading lab file: %w", err)
	}
	defer f.Close()
	return parseLab(f, path.Base(filepath.ToSlash(name)), false, c.rewrite)
}
