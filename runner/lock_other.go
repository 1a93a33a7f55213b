//go:build !unix

package runner

import "context"

// lock is a no-op where flock(2) does not exist: two concurrent starts are
// not serialized there (kind itself refuses a second create of one name).
func (r *Runner) lock(ctx context.Context) (release func(), err error) {
	return func() {}, ctx.Err()
}
