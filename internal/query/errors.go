package query

import (
	"errors"
	"fmt"

	"github.com/clew-tracing/clew/internal/storage"
)

// ErrNotFound is returned by [Service.Trace] when no span of the trace is
// stored. It is storage's sentinel, re-exported so that API packages need
// not import storage just to map it to 404.
var ErrNotFound = storage.ErrNotFound

// BadRequestError reports a request that can never succeed as asked: a
// malformed parameter or an invalid query. APIs answer it with HTTP 400
// (and log nothing), while any other error is the server's fault.
type BadRequestError struct {
	Err error
}

// Error returns the underlying message, which is meant for the client.
func (e *BadRequestError) Error() string { return e.Err.Error() }

// Unwrap returns the underlying error.
func (e *BadRequestError) Unwrap() error { return e.Err }

// BadRequest wraps err as a [*BadRequestError]; it returns nil for nil and
// err itself when it already is one.
func BadRequest(err error) error {
	if err == nil || IsBadRequest(err) {
		return err
	}
	return &BadRequestError{Err: err}
}

// BadRequestf formats a [*BadRequestError], for the API packages' parameter
// parsers.
func BadRequestf(format string, args ...any) error {
	return &BadRequestError{Err: fmt.Errorf(format, args...)}
}

// IsBadRequest reports whether err is or wraps a [*BadRequestError].
func IsBadRequest(err error) bool {
	var br *BadRequestError
	return errors.As(err, &br)
}
