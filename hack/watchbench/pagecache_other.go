//go:build !linux

package main

import "errors"

// dropFromPageCache: only Linux is asked here (its large folios are why
// -from-disk exists).
func dropFromPageCache(string) error {
	return errors.New("-from-disk works on Linux only")
}
