package main

import (
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// dropFromPageCache asks the kernel to forget the file's cached pages. A
// binary just written may still be dirty, and dirty pages are not
// dropped: it is synced first.
func dropFromPageCache(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := unix.Fdatasync(int(f.Fd())); err != nil {
		return fmt.Errorf("syncing %s: %w", path, err)
	}
	if err := unix.Fadvise(int(f.Fd()), 0, 0, unix.FADV_DONTNEED); err != nil {
		return fmt.Errorf("dropping %s from the page cache: %w", path, err)
	}
	return nil
}
