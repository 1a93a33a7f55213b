package runner

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"sort"
	"strings"

	"github.com/labs-dev/labs/content"
)

// ErrUnknownLab is returned for a lab name that no lab has.
var ErrUnknownLab = errors.New("unknown lab")

// Catalog is the set of labs labs knows.
type Catalog struct{ labs []*content.Lab }

// LoadCatalog parses every *.md at the root of fsys except README.md.
func LoadCatalog(fsys fs.FS) (*Catalog, error) {
	names, err := fs.Glob(fsys, "*.md")
	if err != nil {
		return nil, err
	}
	c := &Catalog{}
	for _, n := range names {
		if n == "README.md" {
			continue
		}
		src, err := fs.ReadFile(fsys, n)
		if err != nil {
			return nil, fmt.Errorf("reading lab %s: %w", n, err)
		}
		lab, err := content.Parse(n, src)
		if err != nil {
			return nil, err
		}
		if want := strings.TrimSuffix(n, ".md"); lab.ID != want {
			return nil, fmt.Errorf("%s: lab id %q must match the file name %q", n, lab.ID, want)
		}
		c.labs = append(c.labs, lab)
	}
	sort.Slice(c.labs, func(i, j int) bool { return c.labs[i].ID < c.labs[j].ID })
	return c, nil
}

// readLabFile reads at most one byte more than a lab may have, so a huge
// file is refused (by content.Parse) without being read whole.
func readLabFile(name string) ([]byte, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, fmt.Errorf("reading lab file: %w", err)
	}
	defer f.Close()
	src, err := io.ReadAll(io.LimitReader(f, content.MaxLabSize+1))
	if err != nil {
		return nil, fmt.Errorf("reading lab file %s: %w", name, err)
	}
	return src, nil
}

// All returns the labs sorted by id.
func (c *Catalog) All() []*content.Lab { return c.labs }

// Find returns the lab called name, or, if name is a path to a .md file, that
// file parsed (so lab authors can run `labs test ./draft.md`).
func (c *Catalog) Find(name string) (*content.Lab, error) {
	if IsLabFile(name) {
		src, err := readLabFile(name)
		if err != nil {
			return nil, err
		}
		return content.Parse(path.Base(name), src)
	}
	for _, l := range c.labs {
		if l.ID == name {
			return l, nil
		}
	}
	var ids []string
	for _, l := range c.labs {
		ids = append(ids, l.ID)
	}
	return nil, fmt.Errorf("%w %q: the labs are %s (see `labs list`)", ErrUnknownLab, name, strings.Join(ids, ", "))
}
