package secretsapi

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"

	"github.com/sqlgate/sqlgate/internal/secrets"
)

func TestAPI_GetRandomPassword(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	out, err := e.client.GetRandomPassword(ctx, &secretsmanager.GetRandomPasswordInput{})
	if err != nil {
		t.Fatal(err)
	}
	pw := aws.ToString(out.RandomPassword)
	if len(pw) != 32 || strings.Contains(pw, " ") {
		t.Fatalf("default password %d chars, space=%v", len(pw), strings.Contains(pw, " "))
	}
	for _, set := range []string{secrets.Lowercase, secrets.Uppercase, secrets.Digits, secrets.Punctuation} {
		if !strings.ContainsAny(pw, set) {
			t.Fatalf("default password lacks a character of %q", set)
		}
	}
	out, err = e.client.GetRandomPassword(ctx, &secretsmanager.GetRandomPasswordInput{
		PasswordLength: aws.Int64(4), ExcludePunctuation: aws.Bool(true), ExcludeUppercase: aws.Bool(true),
		ExcludeCharacters: aws.String("abcdefghijklmnopqrstuvwxy0123456789"), IncludeSpace: aws.Bool(true),
	})
	if err != nil {
		t.Fatal(err)
	}
	// Only 'z' and ' ' remain, both required.
	if pw := aws.ToString(out.RandomPassword); len(pw) != 4 || strings.Trim(pw, "z ") != "" || !strings.Contains(pw, "z") || !strings.Contains(pw, " ") {
		t.Fatalf("password %q", pw)
	}
	_, err = e.client.GetRandomPassword(ctx, &secretsmanager.GetRandomPasswordInput{PasswordLength: aws.Int64(4097)})
	wantCode(t, err, "ValidationException", "1 validation error detected: Value '4097' at 'passwordLength' failed to satisfy constraint: Member must have value less than or equal to 4096")
	_, err = e.client.GetRandomPassword(ctx, &secretsmanager.GetRandomPasswordInput{ExcludeNumbers: aws.Bool(true),
		ExcludePunctuation: aws.Bool(true), ExcludeUppercase: aws.Bool(true), ExcludeLowercase: aws.Bool(true)})
	wantCode(t, err, "InvalidParameterException", "")
	_, err = e.client.GetRandomPassword(ctx, &secretsmanager.GetRandomPasswordInput{PasswordLength: aws.Int64(3)})
	wantCode(t, err, "InvalidParameterException", "")
	out, err = e.client.GetRandomPassword(ctx, &secretsmanager.GetRandomPasswordInput{PasswordLength: aws.Int64(3), RequireEachIncludedType: aws.Bool(false)})
	if err != nil || len(aws.ToString(out.RandomPassword)) != 3 {
		t.Fatalf("3 chars without RequireEachIncludedType: %v", err)
	}
}

func TestAPI_BatchGetSecretValue(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	a := e.create(t, "batch/a", "va")
	e.create(t, "batch/b", "vb")
	e.create(t, "other", "vo")
	out, err := e.client.BatchGetSecretValue(ctx, &secretsmanager.BatchGetSecretValueInput{SecretIdList: []string{"batch/b", aws.ToString(a.ARN), "missing"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.SecretValues) != 2 || aws.ToString(out.SecretValues[0].SecretString) != "vb" || aws.ToString(out.SecretValues[1].SecretString) != "va" {
		t.Fatalf("values %+v", out.SecretValues)
	}
	if out.SecretValues[1].VersionStages[0] != "AWSCURRENT" || out.SecretValues[1].CreatedDate == nil {
		t.Fatalf("entry %+v", out.SecretValues[1])
	}
	if len(out.Errors) != 1 || aws.ToString(out.Errors[0].SecretId) != "missing" || aws.ToString(out.Errors[0].ErrorCode) != "ResourceNotFoundException" {
		t.Fatalf("errors %+v", out.Errors)
	}
	// Filters, one page at a time.
	in := &secretsmanager.BatchGetSecretValueInput{Filters: []types.Filter{{Key: types.FilterNameStringTypeName, Values: []string{"batch/"}}}, MaxResults: aws.Int32(1)}
	var got []string
	for {
		out, err := e.client.BatchGetSecretValue(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		for _, v := range out.SecretValues {
			got = append(got, aws.ToString(v.Name))
		}
		if out.NextToken == nil {
			break
		}
		in.NextToken = out.NextToken
	}
	if strings.Join(got, ",") != "batch/a,batch/b" {
		t.Fatalf("filtered: %v", got)
	}
	_, err = e.client.BatchGetSecretValue(ctx, &secretsmanager.BatchGetSecretValueInput{SecretIdList: []string{"x"}, Filters: in.Filters})
	wantCode(t, err, "InvalidParameterException", "")
	_, err = e.client.BatchGetSecretValue(ctx, &secretsmanager.BatchGetSecretValueInput{})
	wantCode(t, err, "InvalidParameterException", "")
	asBob := func(o *secretsmanager.Options) { o.APIOptions = append(o.APIOptions, addHeader(testHeaderUser, "bob")) }
	_, err = e.client.BatchGetSecretValue(ctx, &secretsmanager.BatchGetSecretValueInput{SecretIdList: []string{"other"}}, asBob)
	wantCode(t, err, "AccessDeniedException", "")
}

const publicPolicy = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"secretsmanager:GetSecretValue","Resource":"*"}]}`

func TestAPI_ResourcePolicy(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	c := e.create(t, "pol", "v")
	g, err := e.client.GetResourcePolicy(ctx, &secretsmanager.GetResourcePolicyInput{SecretId: aws.String("pol")})
	if err != nil || g.ResourcePolicy != nil || aws.ToString(g.ARN) != aws.ToString(c.ARN) || aws.ToString(g.Name) != "pol" {
		t.Fatalf("no policy yet: %+v %v", g, err)
	}
	_, err = e.client.PutResourcePolicy(ctx, &secretsmanager.PutResourcePolicyInput{SecretId: aws.String("pol"), ResourcePolicy: aws.String(publicPolicy), BlockPublicPolicy: aws.Bool(true)})
	wantCode(t, err, "PublicPolicyException", "")
	_, err = e.client.PutResourcePolicy(ctx, &secretsmanager.PutResourcePolicyInput{SecretId: aws.String("pol"), ResourcePolicy: aws.String(`{"Statement":[{"Effect":"Allow"}]}`)})
	wantCode(t, err, "MalformedPolicyDocumentException", "")
	p, err := e.client.PutResourcePolicy(ctx, &secretsmanager.PutResourcePolicyInput{SecretId: aws.String("pol"), ResourcePolicy: aws.String(publicPolicy)})
	if err != nil || aws.ToString(p.ARN) != aws.ToString(c.ARN) {
		t.Fatalf("put: %+v %v", p, err)
	}
	g, err = e.client.GetResourcePolicy(ctx, &secretsmanager.GetResourcePolicyInput{SecretId: aws.String("pol")})
	if err != nil || aws.ToString(g.ResourcePolicy) != publicPolicy {
		t.Fatalf("get: %+v %v", g, err)
	}
	v, err := e.client.ValidateResourcePolicy(ctx, &secretsmanager.ValidateResourcePolicyInput{ResourcePolicy: aws.String(`{"Statement":[]}`)})
	if err != nil || v.PolicyValidationPassed || len(v.ValidationErrors) != 1 {
		t.Fatalf("validate bad: %+v %v", v, err)
	}
	v, err = e.client.ValidateResourcePolicy(ctx, &secretsmanager.ValidateResourcePolicyInput{SecretId: aws.String("pol"), ResourcePolicy: aws.String(publicPolicy)})
	if err != nil || !v.PolicyValidationPassed || len(v.ValidationErrors) != 0 {
		t.Fatalf("validate good: %+v %v", v, err)
	}
	if _, err := e.client.DeleteResourcePolicy(ctx, &secretsmanager.DeleteResourcePolicyInput{SecretId: aws.String("pol")}); err != nil {
		t.Fatal(err)
	}
	g, err = e.client.GetResourcePolicy(ctx, &secretsmanager.GetResourcePolicyInput{SecretId: aws.String("pol")})
	if err != nil || g.ResourcePolicy != nil {
		t.Fatalf("after delete: %+v %v", g, err)
	}
	_, err = e.client.GetResourcePolicy(ctx, &secretsmanager.GetResourcePolicyInput{SecretId: aws.String("nope")})
	wantCode(t, err, "ResourceNotFoundException", msgNotFound)
}

// recordingRotator stands in for the rotation service: the API's part is
// to validate, store the configuration and wake it.
type recordingRotator struct {
	woken     int
	refuseARN string
}

func (r *recordingRotator) Rotatable(_ context.Context, arn string) error {
	if arn == r.refuseARN {
		return errInvalidRequest("not a database secret")
	}
	return nil
}

func (r *recordingRotator) Wake() { r.woken++ }

func TestAPI_RotateSecret(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	c := e.create(t, "rot", "v")
	_, err := e.client.RotateSecret(ctx, &secretsmanager.RotateSecretInput{SecretId: aws.String("rot")})
	wantCode(t, err, "InvalidRequestException", "")
	rr := &recordingRotator{}
	e.api.SetRotator(rr)

	for _, bad := range []types.RotationRulesType{
		{AutomaticallyAfterDays: aws.Int64(1001)},
		{AutomaticallyAfterDays: aws.Int64(3), ScheduleExpression: aws.String("rate(3 days)")},
		{ScheduleExpression: aws.String("rate(3 hours)")},
		{ScheduleExpression: aws.String("cron(0 4 * * * *)")},
		{ScheduleExpression: aws.String("daily")},
		{AutomaticallyAfterDays: aws.Int64(1), Duration: aws.String("25h")},
	} {
		_, err := e.client.RotateSecret(ctx, &secretsmanager.RotateSecretInput{SecretId: aws.String("rot"), RotationRules: &bad})
		wantCode(t, err, "InvalidParameterException", "")
	}
	out, err := e.client.RotateSecret(ctx, &secretsmanager.RotateSecretInput{SecretId: aws.String("rot"),
		RotationRules:     &types.RotationRulesType{ScheduleExpression: aws.String("cron(0 16 ? * MON *)"), Duration: aws.String("2h")},
		RotateImmediately: aws.Bool(false), RotationLambdaARN: aws.String("arn:aws:lambda:us-east-1:000000000000:function:unused")})
	if err != nil || aws.ToString(out.ARN) != aws.ToString(c.ARN) || out.VersionId != nil || rr.woken != 1 {
		t.Fatalf("schedule only: %+v %v woken=%d", out, err, rr.woken)
	}
	d, err := e.client.DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: aws.String("rot")})
	if err != nil {
		t.Fatal(err)
	}
	// 2026-11-24 is a Tuesday: the next Monday 16:00 UTC is 2026-11-30.
	want := time.Date(2026, 11, 30, 16, 0, 0, 0, time.UTC)
	if !aws.ToBool(d.RotationEnabled) || d.NextRotationDate == nil || !d.NextRotationDate.Equal(want) ||
		aws.ToString(d.RotationRules.ScheduleExpression) != "cron(0 16 ? * MON *)" || aws.ToString(d.RotationRules.Duration) != "2h" ||
		d.LastRotatedDate != nil || aws.ToString(d.RotationLambdaARN) == "" {
		t.Fatalf("describe: enabled=%v next=%v rules=%+v", aws.ToBool(d.RotationEnabled), d.NextRotationDate, d.RotationRules)
	}
	tok := "11111111-2222-3333-4444-555555555555"
	out, err = e.client.RotateSecret(ctx, &secretsmanager.RotateSecretInput{SecretId: aws.String("rot"), ClientRequestToken: aws.String(tok)})
	if err != nil || aws.ToString(out.VersionId) != tok {
		t.Fatalf("immediate: %+v %v", out, err)
	}
	_, err = e.client.RotateSecret(ctx, &secretsmanager.RotateSecretInput{SecretId: aws.String("rot")})
	wantCode(t, err, "InvalidRequestException", "A previous rotation isn't complete. That rotation will be reattempted.")
	cr, err := e.client.CancelRotateSecret(ctx, &secretsmanager.CancelRotateSecretInput{SecretId: aws.String("rot")})
	if err != nil || aws.ToString(cr.VersionId) != tok {
		t.Fatalf("cancel: %+v %v", cr, err)
	}
	d, err = e.client.DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: aws.String("rot")})
	if err != nil || aws.ToBool(d.RotationEnabled) || d.NextRotationDate != nil || d.RotationRules == nil {
		t.Fatalf("after cancel: %+v %v", d, err)
	}
	rr.refuseARN = aws.ToString(c.ARN)
	_, err = e.client.RotateSecret(ctx, &secretsmanager.RotateSecretInput{SecretId: aws.String("rot")})
	wantCode(t, err, "InvalidRequestException", "not a database secret")
}
