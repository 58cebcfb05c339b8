package iamapi

import (
	"net/url"
	"strings"
	"time"

	"github.com/sqlgate/sqlgate/internal/identity"
)

// XML namespaces of the two APIs (botocore metadata.xmlNamespace).
const (
	NamespaceIAM = "https://iam.amazonaws.com/doc/2010-05-08/"
	NamespaceSTS = "https://sts.amazonaws.com/doc/2011-06-15/"
)

// API versions a request's Version parameter must name.
const (
	VersionIAM = "2010-05-08"
	VersionSTS = "2011-06-15"
)

func namespace(service string) string {
	if service == "sts" {
		return NamespaceSTS
	}
	return NamespaceIAM
}

// isoTime renders as ISO 8601 in UTC without fractions
// (2026-11-29T09:00:00Z), as IAM does.
type isoTime time.Time

func (t isoTime) MarshalText() ([]byte, error) {
	return []byte(time.Time(t).UTC().Format("2006-01-02T15:04:05Z")), nil
}

// optTime is an optional timestamp (nil when t is zero).
func optTime(t time.Time) *isoTime {
	if t.IsZero() {
		return nil
	}
	it := isoTime(t)
	return &it
}

// encodeDoc URL-encodes a policy document as IAM returns it; the CLI and
// SDK customizations URL-decode it again. Spaces become %20, not +, so both
// Python's unquote and Go's url.QueryUnescape restore the document.
func encodeDoc(doc string) string {
	return strings.ReplaceAll(url.QueryEscape(doc), "+", "%20")
}

// members is a Query protocol list: <Users><member>…</member></Users>.
// An empty list still renders its wrapper, so clients see [] and not null.
type members[T any] struct {
	Member []T `xml:"member"`
}

func list[T any](items []T) members[T] { return members[T]{Member: items} }

type userXML struct {
	Path       string           `xml:"Path,omitempty"`
	UserName   string           `xml:"UserName,omitempty"`
	UserID     string           `xml:"UserId"`
	ARN        string           `xml:"Arn"`
	CreateDate *isoTime         `xml:"CreateDate"`
	Tags       *members[tagXML] `xml:"Tags,omitempty"`
}

func toUser(u *identity.User) userXML {
	return userXML{Path: u.Path, UserName: u.UserName, UserID: u.UserID, ARN: u.ARN, CreateDate: optTime(u.CreateDate), Tags: toTags(u.Tags)}
}

type tagXML struct {
	Key   string `xml:"Key"`
	Value string `xml:"Value"`
}

// toTags renders tags, nil (left out) when there are none.
func toTags(tags identity.Tags) *members[tagXML] {
	if len(tags) == 0 {
		return nil
	}
	out := &members[tagXML]{}
	for _, t := range tags {
		out.Member = append(out.Member, tagXML(t))
	}
	return out
}

type accessKeyXML struct {
	UserName        string   `xml:"UserName"`
	AccessKeyID     string   `xml:"AccessKeyId"`
	Status          string   `xml:"Status"`
	SecretAccessKey string   `xml:"SecretAccessKey,omitempty"`
	CreateDate      *isoTime `xml:"CreateDate,omitempty"`
}

type roleXML struct {
	Path                     string           `xml:"Path"`
	RoleName                 string           `xml:"RoleName"`
	RoleID                   string           `xml:"RoleId"`
	ARN                      string           `xml:"Arn"`
	CreateDate               *isoTime         `xml:"CreateDate"`
	AssumeRolePolicyDocument string           `xml:"AssumeRolePolicyDocument,omitempty"`
	Description              string           `xml:"Description,omitempty"`
	MaxSessionDuration       int              `xml:"MaxSessionDuration,omitempty"`
	Tags                     *members[tagXML] `xml:"Tags,omitempty"`
}

func toRole(r *identity.Role) roleXML {
	return roleXML{Path: r.Path, RoleName: r.RoleName, RoleID: r.RoleID, ARN: r.ARN, CreateDate: optTime(r.CreateDate),
		AssumeRolePolicyDocument: encodeDoc(r.TrustPolicy), Description: r.Description, MaxSessionDuration: r.MaxSessionDuration, Tags: toTags(r.Tags)}
}

type policyXML struct {
	PolicyName                    string           `xml:"PolicyName"`
	PolicyID                      string           `xml:"PolicyId"`
	ARN                           string           `xml:"Arn"`
	Path                          string           `xml:"Path"`
	DefaultVersionID              string           `xml:"DefaultVersionId"`
	AttachmentCount               int              `xml:"AttachmentCount"`
	PermissionsBoundaryUsageCount int              `xml:"PermissionsBoundaryUsageCount"`
	IsAttachable                  bool             `xml:"IsAttachable"`
	Description                   string           `xml:"Description,omitempty"`
	CreateDate                    *isoTime         `xml:"CreateDate,omitempty"`
	UpdateDate                    *isoTime         `xml:"UpdateDate,omitempty"`
	Tags                          *members[tagXML] `xml:"Tags,omitempty"`
}

func toPolicy(p *identity.ManagedPolicy) policyXML {
	return policyXML{PolicyName: p.PolicyName, PolicyID: p.PolicyID, ARN: p.ARN, Path: p.Path,
		DefaultVersionID: p.DefaultVersionID, AttachmentCount: p.AttachmentCount, IsAttachable: true,
		Description: p.Description, CreateDate: optTime(p.CreateDate), UpdateDate: optTime(p.UpdateDate), Tags: toTags(p.Tags)}
}

type policyVersionXML struct {
	Document         string   `xml:"Document,omitempty"`
	VersionID        string   `xml:"VersionId"`
	IsDefaultVersion bool     `xml:"IsDefaultVersion"`
	CreateDate       *isoTime `xml:"CreateDate,omitempty"`
}

func toPolicyVersion(v *identity.PolicyVersion, withDoc bool) policyVersionXML {
	out := policyVersionXML{VersionID: v.VersionID, IsDefaultVersion: v.IsDefault, CreateDate: optTime(v.CreateDate)}
	if withDoc {
		out.Document = encodeDoc(v.Document)
	}
	return out
}

type attachedPolicyXML struct {
	PolicyName string `xml:"PolicyName"`
	PolicyArn  string `xml:"PolicyArn"`
}

// page is the pagination tail of every List* result.
type page struct {
	IsTruncated bool   `xml:"IsTruncated"`
	Marker      string `xml:"Marker,omitempty"`
}
