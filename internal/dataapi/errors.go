package dataapi

import (
	"errors"
	"net/http"

	"github.com/sqlgate/sqlgate/internal/awserr"
	"github.com/sqlgate/sqlgate/internal/engine"
	"github.com/sqlgate/sqlgate/internal/exec"
	"github.com/sqlgate/sqlgate/internal/iam"
	"github.com/sqlgate/sqlgate/internal/txn"
)

// Exception names and HTTP statuses from the rds-data model.
func badRequest(msg string) *awserr.Error {
	return awserr.New("BadRequestException", http.StatusBadRequest, msg)
}

func validation(msg string) *awserr.Error {
	return awserr.New("ValidationException", http.StatusBadRequest, msg)
}

func notNull(member string) *awserr.Error {
	return validation("1 validation error detected: Value null at '" + member + "' failed to satisfy constraint: Member must not be null")
}

func notFound(msg string) *awserr.Error {
	return awserr.New("NotFoundException", http.StatusNotFound, msg)
}

func secretsError(msg string, cause error) *awserr.Error {
	return awserr.Wrap("SecretsErrorException", http.StatusBadRequest, msg, cause)
}

func invalidSecret(msg string) *awserr.Error {
	return awserr.New("InvalidSecretException", http.StatusBadRequest, msg)
}

// mapError turns an execution, transaction or authorization error into
// the AWS exception a client expects. User SQL problems are always 4xx.
func mapError(err error, connID int64) *awserr.Error {
	var (
		ae *awserr.Error
		ad *iam.AccessDeniedError
		nf *txn.NotFoundError
		pe *engine.ParamError
	)
	switch {
	case errors.As(err, &ae):
		return ae
	case errors.As(err, &ad):
		return awserr.Wrap("AccessDeniedException", http.StatusForbidden, ad.Error(), err)
	case errors.As(err, &nf):
		return awserr.Wrap("TransactionNotFoundException", http.StatusNotFound, nf.Error(), err)
	case errors.Is(err, txn.ErrBusy):
		return awserr.Wrap("DatabaseErrorException", http.StatusBadRequest, "Transaction is still running a query", err)
	}
	switch exec.Classify(err) {
	case exec.ClassTxControl:
		return awserr.Wrap("BadRequestException", http.StatusBadRequest, err.Error(), err)
	case exec.ClassParam:
		errors.As(err, &pe)
		if pe.Validation {
			return awserr.Wrap("ValidationException", http.StatusBadRequest, pe.Msg, err)
		}
		return awserr.Wrap("BadRequestException", http.StatusBadRequest, pe.Msg, err)
	case exec.ClassUnsupported:
		var ue *engine.UnsupportedTypeError
		errors.As(err, &ue)
		return awserr.Wrap("UnsupportedResultException", http.StatusBadRequest, ue.Error(), err)
	case exec.ClassTooLarge:
		return awserr.Wrap("UnsupportedResultException", http.StatusBadRequest, "The size was too large. Database returned more than the allowed response size limit", err)
	case exec.ClassTimeout:
		e := awserr.Wrap("StatementTimeoutException", http.StatusBadRequest, "The execution of the SQL statement timed out.", err)
		e.Extra = map[string]any{"dbConnectionId": connID}
		return e
	case exec.ClassExhausted:
		return awserr.Wrap("ThrottlingException", http.StatusTooManyRequests, "No database connection became free in time: the cluster's connection budget (max_connections) is in use. Retry later.", err)
	case exec.ClassThrottled:
		return awserr.Wrap("ThrottlingException", http.StatusTooManyRequests, "Rate exceeded: "+err.Error(), err)
	case exec.ClassDatabase:
		var dbe *engine.DBError
		errors.As(err, &dbe)
		return awserr.Wrap("DatabaseErrorException", http.StatusBadRequest, dbe.Error(), err)
	case exec.ClassUnavailable:
		return awserr.Wrap("DatabaseUnavailableException", http.StatusGatewayTimeout, "The writer instance in the DB cluster isn't available.", err)
	}
	return awserr.ErrInternal(err)
}
