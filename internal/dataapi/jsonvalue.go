package dataapi

import "github.com/sqlgate/sqlgate/internal/engine"

// AppendJSONValue appends v as formatRecordsAs=JSON renders it
// with the default resultSetOptions (DECIMAL as string, BIGINT as number),
// so other HTTP front doors (internal/endpoints) use the same type mapping.
func AppendJSONValue(b []byte, v engine.Value) []byte {
	return appendJSONValue(b, v, false, mapOptions{})
}

// AppendJSONString appends s as a JSON string, escaped as the Data API does.
func AppendJSONString(b []byte, s string) []byte { return appendString(b, s) }
