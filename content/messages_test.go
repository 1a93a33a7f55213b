package content

import (
	"regexp"
	"slices"
	"testing"
)

var verb = regexp.MustCompile(`%[-+# 0]*[0-9]*(\.[0-9]+)?[a-zA-Z%]`)

// A translation takes the same arguments, in the same order, as its
// English format: a missing or swapped %d would print garbage.
func TestTranslationsKeepTheirVerbs(t *testing.T) {
	for lang, m := range messages {
		for en, tr := range m {
			if a, b := verb.FindAllString(en, -1), verb.FindAllString(tr, -1); !slices.Equal(a, b) {
				t.Errorf("%s: %q has verbs %v; its English %q has %v", lang, tr, b, en, a)
			}
		}
	}
	if Tr("ko", "Step %d done.") != "%d단계 완료." || Tr("", "Step %d done.") != "Step %d done." || Tr("ja", "pods") != "pods" {
		t.Fatal("Tr does not pick the language or fall back to English")
	}
}
