//go:build !unix

package runner

import "context"

// lockFile is a no-op where flock(2) does not exist: concurrent commands are
// not serialized there (kind itself refuses a second create of one name).
func lockFile(ctx context.Context, path string, onWait func()) (release func(), err error) {
	return func() {}, ctx.Err()
}
