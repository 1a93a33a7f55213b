// Package buildinfo says which labs this is: the version a release build
// set, else the module version `go install` recorded, and the commit and
// its time. `labs version` and `labs doctor` print it.
package buildinfo

import (
	"fmt"
	"runtime"
	"runtime/debug"
)

// Info is the build's identity.
type Info struct {
	Version   string `json:"version"`
	Commit    string `json:"commit,omitempty"`
	Date      string `json:"date,omitempty"`
	Modified  bool   `json:"modified,omitempty"`
	GoVersion string `json:"go"`
	Platform  string `json:"platform"`
}

// Get reads the identity Go records in every binary: the module version
// (`go install ...@v1.2.3`), else "dev", and the VCS commit and its time
// of a build from a checkout. A release build (-ldflags -X) may set
// version; it wins.
func Get(version string) Info {
	info := Info{Version: "dev", GoVersion: runtime.Version(), Platform: runtime.GOOS + "/" + runtime.GOARCH}
	bi, ok := debug.ReadBuildInfo()
	if ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		info.Version = bi.Main.Version
	}
	if ok {
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				info.Commit = s.Value
			case "vcs.time":
				info.Date = s.Value
			case "vcs.modified":
				info.Modified = s.Value == "true"
			}
		}
	}
	if version != "" {
		info.Version = version
	}
	return info
}

// String is the one line `labs version` prints.
func (i Info) String() string {
	s := "labs " + i.Version
	if i.Commit != "" {
		c := i.Commit
		if len(c) > 12 {
			c = c[:12]
		}
		if i.Modified {
			c += "+modified"
		}
		s += " (commit " + c
		if i.Date != "" {
			s += ", " + i.Date
		}
		s += ")"
	}
	return s + fmt.Sprintf(" %s %s", i.GoVersion, i.Platform)
}
