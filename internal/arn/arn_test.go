package arn

import "testing"

func TestARN_Parse(t *testing.T) {
	tests := []struct {
		in      string
		want    ARN
		wantErr bool
	}{
		{in: "arn:aws:rds:us-east-1:000000000000:cluster:maria", want: ARN{"aws", "rds", "us-east-1", "000000000000", "cluster:maria"}},
		{in: "arn:aws:secretsmanager:us-east-1:1:secret:a:b-XyZ123", want: ARN{"aws", "secretsmanager", "us-east-1", "1", "secret:a:b-XyZ123"}},
		{in: "arn:aws:iam::000000000000:root", want: ARN{"aws", "iam", "", "000000000000", "root"}},
		{in: "arn:aws:rds:us-east-1:0", wantErr: true},
		{in: "nope:aws:rds:r:a:cluster:x", wantErr: true},
		{in: "arn::rds:r:a:cluster:x", wantErr: true},
		{in: "arn:aws:rds:r:a:", wantErr: true},
		{in: "", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := Parse(tt.in)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tt.wantErr)
			}
			if !tt.wantErr && got != tt.want {
				t.Fatalf("got %+v, want %+v", got, tt.want)
			}
			if !tt.wantErr && got.String() != tt.in {
				t.Fatalf("String() = %q, want %q", got.String(), tt.in)
			}
		})
	}
}

func TestARN_ClusterName(t *testing.T) {
	if _, name, err := ClusterName(Cluster("us-east-1", "000000000000", "pg")); err != nil || name != "pg" {
		t.Fatalf("name %q err %v", name, err)
	}
	for _, bad := range []string{"arn:aws:rds:us-east-1:0:db:x", "arn:aws:rds:us-east-1:0:cluster:", "arn:aws:s3:::cluster:x"} {
		if _, _, err := ClusterName(bad); err == nil {
			t.Errorf("ClusterName(%q) accepted", bad)
		}
	}
}

// FuzzParse checks Parse never panics and that accepted ARNs round-trip.
func FuzzParse(f *testing.F) {
	f.Add("arn:aws:rds:us-east-1:000000000000:cluster:maria")
	f.Add("arn:aws:secretsmanager:us-east-1:000000000000:secret:default-AbCdEf")
	f.Add("arn:::::")
	f.Fuzz(func(t *testing.T, s string) {
		a, err := Parse(s)
		if err != nil {
			return
		}
		b, err := Parse(a.String())
		if err != nil || a != b {
			t.Fatalf("round trip %q → %+v → %+v (%v)", s, a, b, err)
		}
	})
}
