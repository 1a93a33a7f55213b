// Package translations makes kubectl's message catalogue load only for a
// learner who reads kubectl in another language. kubectl's packages
// translate their help texts while the program initialises, so every labs
// command (`labs list` too) paid ~16 ms to parse the English catalogue, which
// maps every message to itself. This package must initialise before any of
// them: it imports nothing else of kubectl, and Go initialises the ready
// package with the lexically smallest path first (github.com/... before
// k8s.io/...), so importing it anywhere in the binary is enough.
package translations

import (
	"os"
	"strings"

	"k8s.io/kubectl/pkg/util/i18n"
)

func init() {
	// Before any i18n.T call, so it cannot fail; if it ever did, kubectl
	// would simply load its catalogue as before.
	_ = i18n.SetLoadTranslationsFunc(load)
}

// load is kubectl's own loader unless the language is English, whose
// catalogue is the identity: without one, gettext returns each message as
// written, which is the same text.
func load() error {
	if English(language()) {
		return nil
	}
	return i18n.LoadTranslations("kubectl", nil)
}

// language is the locale kubectl would read, in its order of precedence.
func language() string {
	for _, v := range []string{"LC_ALL", "LC_MESSAGES", "LANG"} {
		if s := os.Getenv(v); s != "" {
			return s
		}
	}
	return ""
}

// English reports whether kubectl would surely use its English (default or
// en_US) catalogue for the locale s: unset, not "lang.encoding" (kubectl
// then takes the default), C, POSIX or any en_*. Any other language loads
// kubectl's catalogue as before, even one it has no translation for (it
// falls back to English itself), so a language kubectl adds later works.
func English(s string) bool {
	lang, _, ok := strings.Cut(s, ".")
	if !ok || strings.Contains(strings.TrimPrefix(s, lang+"."), ".") {
		return true
	}
	return lang == "C" || lang == "POSIX" || lang == "en" || strings.HasPrefix(lang, "en_")
}
