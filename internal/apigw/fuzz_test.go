package apigw

import (
	"errors"
	"testing"
	"time"

	"github.com/sqlgate/sqlgate/internal/awserr"
	"github.com/sqlgate/sqlgate/internal/endpoints"
)

// FuzzDecode feeds request bodies to the body decoders and the patch
// operations to the key and plan patchers: every outcome is a value or a
// BadRequestException / NotFoundException / ConflictException, never a
// panic.
func FuzzDecode(f *testing.F) {
	for _, s := range []string{
		`{"name":"k","enabled":true,"value":"0123456789abcdefghij"}`,
		`{"name":"p","throttle":{"rateLimit":1.5,"burstLimit":2},"quota":{"limit":10,"period":"WEEK","offset":1},"apiStages":[{"apiId":"sqlgate","stage":"a"}]}`,
		`{"keyId":"kabc","keyType":"API_KEY"}`,
		`{"patchOperations":[{"op":"replace","path":"/enabled","value":"false"}]}`,
		`{"patchOperations":[{"op":"replace","path":"/quota/limit","value":"5"},{"op":"add","path":"/apiStages","value":"sqlgate:a"}]}`,
		`{"patchOperations":[{"op":"remove","path":"/tags/x"},{"op":"add","path":"/tags/y","value":"1"}]}`,
		`{"patchOperations":[{"op":"replace","path":"/throttle/rateLimit","value":"NaN"}]}`,
		`{"patchOperations":null}`, `[]`, `{"name":1}`, `{"a":` + "\x00", "",
	} {
		f.Add([]byte(s))
	}
	stages := []string{"a", "b"}
	f.Fuzz(func(t *testing.T, body []byte) {
		check := func(err error) {
			if err == nil {
				return
			}
			var ae *awserr.Error
			if !errors.As(err, &ae) || ae.Status >= 500 {
				t.Fatalf("%q: %v", body, err)
			}
		}
		var ck createKeyRequest
		check(decode(body, &ck))
		var cp createPlanRequest
		if err := decode(body, &cp); err == nil && cp.Quota != nil {
			var p endpoints.PlanRecord
			check(setQuota(&p, *cp.Quota))
		} else {
			check(err)
		}
		var pk planKeyRequest
		check(decode(body, &pk))
		ops, err := decodePatch(body)
		check(err)
		k := &endpoints.KeyRecord{ID: "k1", Name: "k"}
		p := &endpoints.PlanRecord{ID: "p1"}
		for _, op := range ops {
			check(patchKey(k, op, time.Unix(0, 0)))
			check(patchPlan(p, stages, op))
		}
	})
}
