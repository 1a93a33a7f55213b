// Package labs holds the lab Markdown files. The format is in README.md.
package labs

import "embed"

// FS holds every lab file (*.md except README.md) at its root.
//
//go:embed *.md
var FS embed.FS
