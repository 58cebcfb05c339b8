package rdsapi

import (
	"time"
)

// Namespace2014 is the XML namespace of the RDS API (botocore
// metadata.xmlNamespace) and Version2014 the Version requests name.
const (
	Namespace2014 = "http://rds.amazonaws.com/doc/2014-10-31/"
	Version2014   = "2014-10-31"
)

// noResult marks actions whose output has no members: AWS still sends an
// empty <ActionResult/>. A nil result leaves the element out (actions
// without an output shape).
type noResult struct{}

// isoTime renders as ISO 8601 in UTC with milliseconds, as RDS does.
type isoTime time.Time

func (t isoTime) MarshalText() ([]byte, error) {
	return []byte(time.Time(t).UTC().Format("2006-01-02T15:04:05.000Z")), nil
}

func optTime(t time.Time) *isoTime {
	if t.IsZero() {
		return nil
	}
	v := isoTime(t)
	return &v
}

// members is a list whose elements are <member> (no locationName).
type members[T any] struct {
	Member []T `xml:"member"`
}

func list[T any](items []T) *members[T] {
	if items == nil {
		items = []T{}
	}
	return &members[T]{Member: items}
}

type tagXML struct {
	Key   string `xml:"Key"`
	Value string `xml:"Value"`
}

// tagList is a TagList: <Tag> elements.
type tagList struct {
	Tag []tagXML `xml:"Tag"`
}

func toTagList(tags []Tag) *tagList {
	out := &tagList{Tag: []tagXML{}}
	for _, t := range tags {
		out.Tag = append(out.Tag, tagXML(t))
	}
	return out
}

type clusterXML struct {
	DBClusterIdentifier string   `xml:"DBClusterIdentifier"`
	DBClusterArn        string   `xml:"DBClusterArn"`
	DbClusterResourceID string   `xml:"DbClusterResourceId"`
	Status              string   `xml:"Status"`
	Engine              string   `xml:"Engine"`
	EngineMode          string   `xml:"EngineMode"`
	DatabaseName        string   `xml:"DatabaseName,omitempty"`
	Endpoint            string   `xml:"Endpoint"`
	ReaderEndpoint      string   `xml:"ReaderEndpoint"`
	Port                *int     `xml:"Port,omitempty"`
	MultiAZ             bool     `xml:"MultiAZ"`
	HTTPEndpointEnabled bool     `xml:"HttpEndpointEnabled"`
	IAMDatabaseAuth     bool     `xml:"IAMDatabaseAuthenticationEnabled"`
	StorageEncrypted    bool     `xml:"StorageEncrypted"`
	DeletionProtection  bool     `xml:"DeletionProtection"`
	TagList             *tagList `xml:"TagList"`
	DBClusterMembers    *struct {
		Member []clusterMemberXML `xml:"DBClusterMember"`
	} `xml:"DBClusterMembers"`
}

// clusterMemberXML is one instance of a cluster with a topology.
type clusterMemberXML struct {
	DBInstanceIdentifier          string `xml:"DBInstanceIdentifier"`
	IsClusterWriter               bool   `xml:"IsClusterWriter"`
	DBClusterParameterGroupStatus string `xml:"DBClusterParameterGroupStatus"`
	PromotionTier                 int    `xml:"PromotionTier"`
}

type authXML struct {
	Description            string `xml:"Description,omitempty"`
	UserName               string `xml:"UserName,omitempty"`
	AuthScheme             string `xml:"AuthScheme"`
	SecretArn              string `xml:"SecretArn"`
	IAMAuth                string `xml:"IAMAuth"`
	ClientPasswordAuthType string `xml:"ClientPasswordAuthType,omitempty"`
}

type proxyXML struct {
	DBProxyName         string            `xml:"DBProxyName"`
	DBProxyArn          string            `xml:"DBProxyArn"`
	Status              string            `xml:"Status"`
	EngineFamily        string            `xml:"EngineFamily"`
	VpcID               string            `xml:"VpcId"`
	VpcSecurityGroupIDs *members[string]  `xml:"VpcSecurityGroupIds"`
	VpcSubnetIDs        *members[string]  `xml:"VpcSubnetIds"`
	DefaultAuthScheme   string            `xml:"DefaultAuthScheme"`
	Auth                *members[authXML] `xml:"Auth"`
	RoleArn             string            `xml:"RoleArn,omitempty"`
	Endpoint            string            `xml:"Endpoint,omitempty"`
	RequireTLS          bool              `xml:"RequireTLS"`
	IdleClientTimeout   int               `xml:"IdleClientTimeout"`
	DebugLogging        bool              `xml:"DebugLogging"`
	CreatedDate         *isoTime          `xml:"CreatedDate"`
	UpdatedDate         *isoTime          `xml:"UpdatedDate"`
	EndpointNetworkType string            `xml:"EndpointNetworkType"`
	TargetNetworkType   string            `xml:"TargetConnectionNetworkType"`
}

type healthXML struct {
	State       string `xml:"State"`
	Reason      string `xml:"Reason,omitempty"`
	Description string `xml:"Description,omitempty"`
}

type targetXML struct {
	TargetArn        string     `xml:"TargetArn,omitempty"`
	Endpoint         string     `xml:"Endpoint,omitempty"`
	TrackedClusterID string     `xml:"TrackedClusterId,omitempty"`
	RdsResourceID    string     `xml:"RdsResourceId,omitempty"`
	Port             int        `xml:"Port"`
	Type             string     `xml:"Type"`
	Role             string     `xml:"Role,omitempty"`
	TargetHealth     *healthXML `xml:"TargetHealth"`
}

type poolXML struct {
	MaxConnectionsPercent     int              `xml:"MaxConnectionsPercent"`
	MaxIdleConnectionsPercent int              `xml:"MaxIdleConnectionsPercent"`
	ConnectionBorrowTimeout   int              `xml:"ConnectionBorrowTimeout"`
	SessionPinningFilters     *members[string] `xml:"SessionPinningFilters"`
	InitQuery                 string           `xml:"InitQuery,omitempty"`
}

type targetGroupXML struct {
	DBProxyName          string   `xml:"DBProxyName"`
	TargetGroupName      string   `xml:"TargetGroupName"`
	TargetGroupArn       string   `xml:"TargetGroupArn"`
	IsDefault            bool     `xml:"IsDefault"`
	Status               string   `xml:"Status"`
	ConnectionPoolConfig poolXML  `xml:"ConnectionPoolConfig"`
	CreatedDate          *isoTime `xml:"CreatedDate"`
	UpdatedDate          *isoTime `xml:"UpdatedDate"`
}

type endpointXML struct {
	DBProxyEndpointName string           `xml:"DBProxyEndpointName"`
	DBProxyEndpointArn  string           `xml:"DBProxyEndpointArn"`
	DBProxyName         string           `xml:"DBProxyName"`
	Status              string           `xml:"Status"`
	VpcID               string           `xml:"VpcId"`
	VpcSecurityGroupIDs *members[string] `xml:"VpcSecurityGroupIds"`
	VpcSubnetIDs        *members[string] `xml:"VpcSubnetIds"`
	Endpoint            string           `xml:"Endpoint"`
	CreatedDate         *isoTime         `xml:"CreatedDate"`
	TargetRole          string           `xml:"TargetRole"`
	IsDefault           bool             `xml:"IsDefault"`
	EndpointNetworkType string           `xml:"EndpointNetworkType"`
}
