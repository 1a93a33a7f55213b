//go:build !(linux || darwin)

package runner

import "errors"

func (realHost) FreeBytes(path string) (uint64, error) {
	return 0, errors.New("free space is not measured on this system")
}
