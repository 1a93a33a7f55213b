package translations

import (
	"os"
	"os/exec"
	"strings"
	"testing"

	"k8s.io/kubectl/pkg/util/i18n"
)

func TestEnglish(t *testing.T) {
	for s, want := range map[string]bool{
		"":            true,
		"C":           true, // no encoding: kubectl takes its default
		"C.UTF-8":     true,
		"POSIX.UTF-8": true,
		"en_US.UTF-8": true,
		"en_GB.UTF-8": true,
		"ko_KR":       true, // kubectl reads only "lang.encoding"
		"ko_KR.a.b":   true,
		"ko_KR.UTF-8": false,
		"ja_JP.UTF-8": false,
		"xx_XX.UTF-8": false, // unknown to labs: kubectl decides
	} {
		if got := English(s); got != want {
			t.Errorf("English(%q) = %v, want %v", s, got, want)
		}
	}
}

// A message kubectl translates in its Korean catalogue (kubectl config
// get-clusters' short help).
const msg = "Display clusters defined in the kubeconfig"

// TestTranslatedOnlyWhenNotEnglish runs this test binary again under each
// locale: kubectl's message reads as written in English and is translated in
// Korean, so skipping the English catalogue changed nothing a learner sees.
func TestTranslatedOnlyWhenNotEnglish(t *testing.T) {
	if os.Getenv("LABS_I18N_CHILD") != "" {
		os.Stdout.WriteString(i18n.T(msg))
		os.Exit(0)
	}
	for _, c := range []struct{ lang, want string }{
		{"", msg},
		{"en_US.UTF-8", msg},
		{"C.UTF-8", msg},
	} {
		got := child(t, c.lang)
		if got != c.want {
			t.Errorf("LANG=%q: T(%q) = %q, want it unchanged", c.lang, msg, got)
		}
	}
	if got := child(t, "ko_KR.UTF-8"); got == msg || strings.TrimSpace(got) == "" {
		t.Errorf("LANG=ko_KR.UTF-8: T(%q) = %q, want kubectl's Korean translation", msg, got)
	}
}

func child(t *testing.T, lang string) string {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestTranslatedOnlyWhenNotEnglish$")
	cmd.Env = append(os.Environ(), "LABS_I18N_CHILD=1", "LC_ALL=", "LC_MESSAGES=", "LANG="+lang)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("LANG=%q: %v", lang, err)
	}
	return string(out)
}
