package rdsapi

import (
	"errors"
	"net/http"

	"github.com/sqlgate/sqlgate/internal/awserr"
	"github.com/sqlgate/sqlgate/internal/awsquery"
	"github.com/sqlgate/sqlgate/internal/iam"
	"github.com/sqlgate/sqlgate/internal/iamapi"
)

// Error is an RDS error as the Query protocol reports it: Code is AWS's
// error code (DBProxyNotFoundFault), Msg the public message, Err the
// internal cause (logged, never sent). It is the one AWS error type of
// internal/awserr.
type Error = awserr.Error

func newErr(code string, status int, msg string) *Error {
	return &Error{Code: code, Status: status, Msg: msg}
}

// Error codes and statuses (botocore rds service-2.json).
func errInvalid(msg string) *Error {
	return newErr("InvalidParameterValue", http.StatusBadRequest, msg)
}
func errCombination(msg string) *Error {
	return newErr("InvalidParameterCombination", http.StatusBadRequest, msg)
}
func errMissing(name string) *Error {
	return newErr("MissingParameter", http.StatusBadRequest, "The request must contain the parameter "+name+".")
}
func errMalformed(msg string) *Error {
	return newErr("MalformedQueryString", http.StatusBadRequest, msg)
}
func errProxyNotFound(name string) *Error {
	return newErr("DBProxyNotFoundFault", http.StatusNotFound, "DBProxy "+short(name)+" not found.")
}
func errProxyExists(name string) *Error {
	return newErr("DBProxyAlreadyExistsFault", http.StatusBadRequest, "DBProxy "+short(name)+" already exists.")
}
func errClusterNotFound(name string) *Error {
	return newErr("DBClusterNotFoundFault", http.StatusNotFound, "DBCluster "+short(name)+" not found.")
}
func errResourceNotFound(msg string) *Error {
	return newErr("ResourceNotFoundFault", http.StatusNotFound, msg)
}
func errProxyState(msg string) *Error {
	return newErr("InvalidDBProxyStateFault", http.StatusBadRequest, msg)
}
func errTargetGroupNotFound(name string) *Error {
	return newErr("DBProxyTargetGroupNotFoundFault", http.StatusNotFound, "DBProxyTargetGroup "+short(name)+" not found.")
}
func errTargetNotFound(msg string) *Error {
	return newErr("DBProxyTargetNotFoundFault", http.StatusNotFound, msg)
}
func errTargetRegistered(msg string) *Error {
	return newErr("DBProxyTargetAlreadyRegisteredFault", http.StatusBadRequest, msg)
}
func errEndpointExists(name string) *Error {
	return newErr("DBProxyEndpointAlreadyExistsFault", http.StatusBadRequest, "DBProxyEndpoint "+short(name)+" already exists.")
}
func errEndpointNotFound(name string) *Error {
	return newErr("DBProxyEndpointNotFoundFault", http.StatusNotFound, "DBProxyEndpoint "+short(name)+" not found.")
}
func errQuota(code, msg string) *Error { return newErr(code, http.StatusBadRequest, msg) }
func errInternal(cause error) *Error {
	return &Error{Code: "InternalFailure", Status: http.StatusInternalServerError, Msg: "An internal error occurred.", Err: cause}
}

// toError converts any error to an *Error: authorization failures become
// AccessDenied (403), authentication failures (awserr, from the server)
// keep their status under their Query-protocol code, anything else is an
// internal failure.
func toError(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		if c := iamapi.QueryCode(e.Code); c != e.Code {
			return &Error{Code: c, Status: e.Status, Msg: e.Msg, Err: err}
		}
		return e
	}
	var denied *iam.AccessDeniedError
	if errors.As(err, &denied) {
		return &Error{Code: "AccessDenied", Status: http.StatusForbidden, Msg: denied.Error(), Err: err}
	}
	return errInternal(err)
}

// WriteError writes err as an RDS ErrorResponse and returns the *Error
// written. The server uses it for failures before Handle (signature,
// unknown key), so those reach RDS clients as XML too.
func WriteError(w http.ResponseWriter, requestID string, err error) *Error {
	e := toError(err)
	awsquery.WriteError(w, Namespace2014, requestID, e)
	return e
}
