package endpoints

import (
	"encoding/json"
	"net/http"
	"sort"
	"strconv"

	"github.com/sqlgate/sqlgate/internal/config"
)

// openAPI generates the OpenAPI 3.1 document of the endpoints
// (https://spec.openapis.org/oas/v3.1.0), so clients can be generated.
// encoding/json sorts map keys, so the document is deterministic.
func openAPI(cfg *config.Config, eps []*endpoint) ([]byte, error) {
	paths := map[string]map[string]any{}
	keyed := false
	for _, ep := range eps {
		item := paths[ep.cfg.Path]
		if item == nil {
			item = map[string]any{}
			paths[ep.cfg.Path] = item
		}
		item[lower(ep.method)] = operation(ep)
		keyed = keyed || ep.cfg.APIKeyRequired
	}
	doc := map[string]any{
		"openapi": "3.1.0",
		"info": map[string]any{"title": "sqlgate endpoints", "version": "1",
			"description": "SQL-backed HTTP endpoints served by sqlgate (region " + cfg.Region + ")."},
		"paths": paths,
		"components": map[string]any{
			"schemas": map[string]any{"Error": map[string]any{"type": "object", "required": []string{"message"},
				"properties": map[string]any{"message": map[string]any{"type": "string"}, "field": map[string]any{"type": "string"}}}},
		},
	}
	if keyed {
		doc["components"].(map[string]any)["securitySchemes"] = map[string]any{
			"apiKey": map[string]any{"type": "apiKey", "in": "header", "name": "x-api-key"}}
	}
	return json.MarshalIndent(doc, "", "  ")
}

func operation(ep *endpoint) map[string]any {
	op := map[string]any{"operationId": ep.name}
	if ep.cfg.Description != "" {
		op["description"] = ep.cfg.Description
	}
	var params []any
	body := map[string]any{}
	var required []string
	for _, p := range ep.dec.params {
		schema := paramSchema(p)
		if p.from == "body" {
			body[p.wire] = schema
			if p.required {
				required = append(required, p.wire)
			}
			continue
		}
		params = append(params, map[string]any{"name": p.wire, "in": p.from, "required": p.required, "schema": schema})
	}
	errResp := func(d string) any {
		return map[string]any{"description": d, "content": map[string]any{"application/json": map[string]any{
			"schema": map[string]any{"$ref": "#/components/schemas/Error"}}}}
	}
	responses := map[string]any{
		"400": errResp("A field is missing, unknown or invalid (named in field)."),
		"403": errResp("Missing or unknown x-api-key, or source address not allowed."),
		"429": errResp("Rate or quota exceeded; see Retry-After."),
		"500": errResp("Internal error (database error details only with expose_db_errors)."),
	}
	row := map[string]any{"type": "object", "additionalProperties": true}
	if ep.method == http.MethodGet {
		params = append(params,
			map[string]any{"name": "limit", "in": "query", "required": false,
				"schema": map[string]any{"type": "integer", "minimum": 1, "maximum": ep.maxPage, "default": ep.pageSize}},
			map[string]any{"name": "next", "in": "query", "required": false, "description": "Opaque cursor from a previous page's next.",
				"schema": map[string]any{"type": "string"}})
		responses[strconv.Itoa(ep.status)] = jsonResponse("One page of rows.", map[string]any{
			"type": "object", "required": []string{"items"},
			"properties": map[string]any{"items": map[string]any{"type": "array", "items": row},
				"next": map[string]any{"type": "string"}}})
	} else {
		responses[strconv.Itoa(ep.status)] = jsonResponse("Rows updated and generated values.", map[string]any{
			"type": "object", "required": []string{"updated", "generated"},
			"properties": map[string]any{"updated": map[string]any{"type": "integer"}, "generated": row}})
		responses["413"] = errResp("Request body too large.")
		responses["415"] = errResp("Content-Type is not application/json.")
	}
	if len(body) > 0 {
		sort.Strings(required)
		schema := map[string]any{"type": "object", "properties": body, "additionalProperties": false}
		if len(required) > 0 {
			schema["required"] = required
		}
		op["requestBody"] = map[string]any{"required": len(required) > 0,
			"content": map[string]any{"application/json": map[string]any{"schema": schema}}}
	}
	if len(params) > 0 {
		op["parameters"] = params
	}
	op["responses"] = responses
	if ep.cfg.APIKeyRequired {
		op["security"] = []any{map[string]any{"apiKey": []string{}}}
	}
	return op
}

func jsonResponse(desc string, schema any) any {
	return map[string]any{"description": desc, "content": map[string]any{"application/json": map[string]any{"schema": schema}}}
}

func paramSchema(p *param) map[string]any {
	s := map[string]any{"type": p.typ}
	if p.desc != "" {
		s["description"] = p.desc
	}
	if !p.required && p.from == "body" {
		s["type"] = []string{p.typ, "null"}
	}
	if p.maxLen > 0 {
		s["maxLength"] = p.maxLen
	}
	if p.re != nil {
		s["pattern"] = p.re.String()
	}
	if p.min != nil {
		s["minimum"] = *p.min
	}
	if p.max != nil {
		s["maximum"] = *p.max
	}
	return s
}

func lower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}
