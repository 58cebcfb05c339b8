// Package awsquery is the AWS Query protocol shared by the IAM/STS and
// RDS APIs: reading a request's form (ParseForm, Indexes, Member) and
// writing responses, a result wrapped in
// <ActionResponse><ActionResult>…</ActionResult><ResponseMetadata>…, and
// errors as <ErrorResponse><Error><Type><Code><Message>…. Each API keeps
// its own XML namespace, validation wording and result shapes.
package awsquery

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"net/http"
	"strings"

	"github.com/sqlgate/sqlgate/internal/awserr"
)

// Write sends an XML body with the headers AWS's Query APIs send.
func Write(w http.ResponseWriter, status int, requestID string, body []byte) {
	h := w.Header()
	h.Set("Content-Type", "text/xml")
	if requestID != "" {
		h.Set("X-Amzn-RequestId", requestID)
	}
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// EncodeResult renders <ActionResponse xmlns=…><ActionResult>…</ActionResult>
// <ResponseMetadata>…</ResponseMetadata></ActionResponse>. A nil result
// leaves the result element out (actions without an output shape).
func EncodeResult(xmlns, action, requestID string, result any) ([]byte, error) {
	var buf bytes.Buffer
	fmt.Fprintf(&buf, `<%sResponse xmlns="%s">`, action, xmlns)
	if result != nil {
		enc := xml.NewEncoder(&buf)
		if err := enc.EncodeElement(result, xml.StartElement{Name: xml.Name{Local: action + "Result"}}); err != nil {
			return nil, fmt.Errorf("encode %s result: %w", action, err)
		}
		if err := enc.Close(); err != nil {
			return nil, fmt.Errorf("encode %s result: %w", action, err)
		}
	}
	fmt.Fprintf(&buf, `<ResponseMetadata><RequestId>%s</RequestId></ResponseMetadata></%sResponse>`, Escape(requestID), action)
	return buf.Bytes(), nil
}

// Escape escapes s for XML character data.
func Escape(s string) string {
	var b strings.Builder
	_ = xml.EscapeText(&b, []byte(s))
	return b.String()
}

// ErrorResponse is the Query protocol error body (tests decode it too).
type ErrorResponse struct {
	XMLName   xml.Name    `xml:"ErrorResponse"`
	Xmlns     string      `xml:"xmlns,attr"`
	Error     ErrorDetail `xml:"Error"`
	RequestID string      `xml:"RequestId"`
}

// ErrorDetail is the <Error> element.
type ErrorDetail struct {
	Type    string `xml:"Type"`
	Code    string `xml:"Code"`
	Message string `xml:"Message"`
}

// WriteError sends e as an ErrorResponse in namespace xmlns with e's HTTP
// status. Only its public code and message are written, never its cause.
func WriteError(w http.ResponseWriter, xmlns, requestID string, e *awserr.Error) {
	body, err := xml.Marshal(ErrorResponse{Xmlns: xmlns, RequestID: requestID,
		Error: ErrorDetail{Type: e.Fault(), Code: e.Code, Message: e.Msg}})
	if err != nil {
		// Only invalid UTF-8 can fail here; never echo it.
		body = fmt.Appendf(nil, `<ErrorResponse xmlns=%q><Error><Type>Receiver</Type><Code>InternalFailure</Code><Message>An internal error occurred.</Message></Error><RequestId>%s</RequestId></ErrorResponse>`,
			xmlns, Escape(requestID))
	}
	Write(w, e.Status, requestID, body)
}
