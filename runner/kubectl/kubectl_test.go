package kubectl

import (
	"os"
	"os/exec"
	"testing"

	"github.com/chai2010/gettext-go"
	"k8s.io/kubectl/pkg/util/i18n"
)

// TestEnglishCatalogueNotLoaded runs this test binary, which links all of
// kubectl, under two locales: in English kubectl's catalogue was never bound
// (gettext keeps its "default" domain), so the labs loader ran before any of
// kubectl's packages translated a help text; in Korean it was, as kubectl
// itself does.
func TestEnglishCatalogueNotLoaded(t *testing.T) {
	if os.Getenv("LABS_I18N_CHILD") != "" {
		i18n.T("Display clusters defined in the kubeconfig")
		os.Stdout.WriteString(gettext.SetDomain(""))
		os.Exit(0)
	}
	for lang, want := range map[string]string{"C.UTF-8": "default", "en_US.UTF-8": "default", "ko_KR.UTF-8": "k8s"} {
		cmd := exec.Command(os.Args[0], "-test.run=^TestEnglishCatalogueNotLoaded$")
		cmd.Env = append(os.Environ(), "LABS_I18N_CHILD=1", "LC_ALL=", "LC_MESSAGES=", "LANG="+lang)
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("LANG=%s: %v", lang, err)
		}
		if string(out) != want {
			t.Errorf("LANG=%s: gettext domain %q, want %q", lang, out, want)
		}
	}
}
