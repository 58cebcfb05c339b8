package exec

import (
	"context"
	"errors"

	"github.com/sqlgate/sqlgate/internal/engine"
	"github.com/sqlgate/sqlgate/internal/fairshare"
	"github.com/sqlgate/sqlgate/internal/pool"
)

// Class is what kind of failure an execution error is; each door maps
// classes to its own answers (AWS exceptions, HTTP statuses).
type Class uint8

// The error classes.
const (
	ClassNone        Class = iota // no error
	ClassDatabase                 // the database rejected the statement (*engine.DBError)
	ClassParam                    // bad parameters (*engine.ParamError)
	ClassTxControl                // transaction-control SQL refused (*TxControlError)
	ClassUnsupported              // a result type the API cannot represent
	ClassTooLarge                 // the result exceeded the response limit
	ClassTimeout                  // the statement timeout stopped the statement
	ClassExhausted                // no connection became free within the borrow timeout
	ClassThrottled                // the caller holds its share (fairshare.ErrLimit)
	ClassUnavailable              // the database cannot be reached, or the pool is closed
	ClassCanceled                 // the caller went away
	ClassInternal                 // anything else
)

// Classify returns err's class.
func Classify(err error) Class {
	var (
		dbe *engine.DBError
		pe  *engine.ParamError
		ue  *engine.UnsupportedTypeError
		tce *TxControlError
	)
	switch {
	case err == nil:
		return ClassNone
	case errors.As(err, &tce):
		return ClassTxControl
	case errors.As(err, &pe):
		return ClassParam
	case errors.As(err, &ue):
		return ClassUnsupported
	case errors.Is(err, engine.ErrResultTooLarge):
		return ClassTooLarge
	case errors.Is(err, engine.ErrTimeout), errors.Is(err, context.DeadlineExceeded):
		return ClassTimeout
	case errors.Is(err, fairshare.ErrLimit):
		return ClassThrottled
	case errors.Is(err, pool.ErrExhausted):
		return ClassExhausted
	case errors.As(err, &dbe):
		return ClassDatabase
	case errors.Is(err, engine.ErrUnavailable), errors.Is(err, pool.ErrClosed):
		return ClassUnavailable
	case errors.Is(err, context.Canceled):
		return ClassCanceled
	}
	return ClassInternal
}
