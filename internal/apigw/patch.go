package apigw

import (
	"fmt"
	"strconv"
	"strings"
)

// patchOp is one PatchOperation of an update call, as API Gateway defines
// it: op is add, remove, replace, move, copy or test; path a JSON-pointer
// style path; value a string whatever the target's type.
type patchOp struct {
	Op    string  `json:"op"`
	Path  string  `json:"path"`
	Value *string `json:"value,omitempty"`
	From  string  `json:"from,omitempty"`
}

// updateRequest is the body of every update call.
type updateRequest struct {
	PatchOperations []patchOp `json:"patchOperations"`
}

// maxPatchOps bounds the operations of one update call.
const maxPatchOps = 100

// decodePatch decodes an update body and checks every operation's op,
// its path's syntax and that replace and add carry a value.
func decodePatch(body []byte) ([]patchOp, error) {
	var req updateRequest
	if err := decode(body, &req); err != nil {
		return nil, err
	}
	if len(req.PatchOperations) > maxPatchOps {
		return nil, badRequest(fmt.Sprintf("Too many patch operations: at most %d", maxPatchOps))
	}
	for _, op := range req.PatchOperations {
		switch op.Op {
		case "add", "replace":
			if op.Value == nil {
				return nil, badRequest(fmt.Sprintf("Invalid patch operation: %s %s needs a value", op.Op, op.Path))
			}
		case "remove":
		case "move", "copy", "test":
			return nil, badRequest(fmt.Sprintf("Invalid patch operation specified. Must be one of: [add, remove, replace]; %q is not supported here", op.Op))
		default:
			return nil, badRequest("Invalid patch operation specified. Must be one of: [add, remove, replace, move, copy, test]")
		}
		if !strings.HasPrefix(op.Path, "/") || len(op.Path) > 1024 {
			return nil, badRequest("Invalid patch path " + strconv.Quote(clip(op.Path)))
		}
	}
	return req.PatchOperations, nil
}

// value returns the operation's value ("" for remove).
func (op patchOp) value() string {
	if op.Value == nil {
		return ""
	}
	return *op.Value
}

// unsupported is the error for a path an operation cannot change.
func (op patchOp) unsupported() error {
	return badRequest(fmt.Sprintf("Invalid patch path %s specified for op %s", strconv.Quote(clip(op.Path)), op.Op))
}

// boolValue parses a patch value that is a boolean.
func (op patchOp) boolValue() (bool, error) {
	b, err := strconv.ParseBool(op.value())
	if err != nil {
		return false, badRequest(fmt.Sprintf("Invalid value for %s: want true or false", op.Path))
	}
	return b, nil
}

// intValue parses a patch value that is a non-negative integer.
func (op patchOp) intValue() (int64, error) {
	n, err := strconv.ParseInt(op.value(), 10, 64)
	if err != nil || n < 0 {
		return 0, badRequest(fmt.Sprintf("Invalid value for %s: want a non-negative integer", op.Path))
	}
	return n, nil
}

// floatValue parses a patch value that is a non-negative number.
func (op patchOp) floatValue() (float64, error) {
	f, err := strconv.ParseFloat(op.value(), 64)
	if err != nil || f < 0 || f != f || f > 1e9 {
		return 0, badRequest(fmt.Sprintf("Invalid value for %s: want a non-negative number", op.Path))
	}
	return f, nil
}

// clip shortens s for an error message.
func clip(s string) string {
	if len(s) > 64 {
		return s[:64] + "…"
	}
	return s
}
