package buildinfo

import (
	"runtime"
	"strings"
	"testing"
)

// A release's version wins; without one, the build says what Go
// recorded; the line names the platform.
func TestGet(t *testing.T) {
	if got := Get("v1.2.3"); got.Version != "v1.2.3" || got.Platform != runtime.GOOS+"/"+runtime.GOARCH {
		t.Fatalf("Get(v1.2.3) = %+v", got)
	}
	if got := Get(""); got.Version == "" {
		t.Fatal("no version at all")
	}
	line := Info{Version: "v1.2.3", Commit: "0123456789abcdef", Date: "2026-12-07T00:00:00Z", Modified: true, GoVersion: "go1.26", Platform: "linux/amd64"}.String()
	if want := "labs v1.2.3 (commit 0123456789ab+modified, 2026-12-07T00:00:00Z) go1.26 linux/amd64"; line != want {
		t.Fatalf("String() = %q, want %q", line, want)
	}
	if !strings.HasPrefix(Info{Version: "dev", GoVersion: "go", Platform: "p"}.String(), "labs dev go") {
		t.Fatal("a build without VCS data")
	}
}
