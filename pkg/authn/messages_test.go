package authn

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestEveryMessageInCatalogue: every message ID the templates and the code name has a text, so
// no page shows a raw ID.
func TestEveryMessageInCatalogue(t *testing.T) {
	var files []string
	for _, pattern := range []string{"templates/*.html", "*.go"} {
		m, err := filepath.Glob(pattern)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, m...)
	}
	tmplRe := regexp.MustCompile(`\{\{t "([a-z_.]+)"\}\}`)
	goRe := regexp.MustCompile(`"((?:app|login|verify|enrol|codes|activate|pw|logout|csrf|session|error|keys)\.[a-z_.]+)"`)
	seen := 0
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") || f == "messages.go" {
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		re := goRe
		if strings.HasSuffix(f, ".html") {
			re = tmplRe
		}
		for _, m := range re.FindAllStringSubmatch(string(b), -1) {
			if strings.HasSuffix(m[1], ".html") { // a template's name, not a message
				continue
			}
			seen++
			if _, ok := catalogue[m[1]]; !ok {
				t.Errorf("%s names message %q, which the catalogue lacks", f, m[1])
			}
		}
	}
	if seen < 40 {
		t.Errorf("found only %d message references; the scan is broken", seen)
	}
}
