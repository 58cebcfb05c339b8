package admin

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/sqlgate/sqlgate/internal/secrets"
)

// PoliciesAttach attaches a managed policy (arn:…) to user, or puts the
// JSON document doc as the inline policy name.
func (a *Admin) PoliciesAttach(ctx context.Context, user, arnOrName, doc string) error {
	if strings.HasPrefix(arnOrName, "arn:") {
		if err := a.ids.AttachUserPolicy(ctx, user, arnOrName); err != nil {
			return err
		}
		fmt.Fprintf(a.out, "attached %s to %s\n", arnOrName, user)
		return nil
	}
	if err := a.ids.PutUserPolicy(ctx, user, arnOrName, doc); err != nil {
		return err
	}
	fmt.Fprintf(a.out, "put inline policy %s on %s\n", arnOrName, user)
	return nil
}

// PoliciesDetach detaches a managed policy or deletes an inline one.
func (a *Admin) PoliciesDetach(ctx context.Context, user, arnOrName string) error {
	var err error
	if strings.HasPrefix(arnOrName, "arn:") {
		err = a.ids.DetachUserPolicy(ctx, user, arnOrName)
	} else {
		err = a.ids.DeleteUserPolicy(ctx, user, arnOrName)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(a.out, "removed %s from %s\n", arnOrName, user)
	return nil
}

// PoliciesShow prints a user's attached and inline policies.
func (a *Admin) PoliciesShow(ctx context.Context, user string) error {
	u, err := a.ids.GetUser(ctx, user)
	if err != nil {
		return err
	}
	fmt.Fprintf(a.out, "user %s (%s)\n", u.UserName, u.ARN)
	for _, p := range u.AttachedPolicies {
		fmt.Fprintf(a.out, "attached: %s\n", p)
	}
	names := make([]string, 0, len(u.InlinePolicies))
	for n := range u.InlinePolicies {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(a.out, "inline %s:\n%s\n", n, indentJSON(u.InlinePolicies[n]))
	}
	return nil
}

func indentJSON(doc string) string {
	var v any
	if json.Unmarshal([]byte(doc), &v) != nil {
		return doc
	}
	b, _ := json.MarshalIndent(v, "  ", "  ")
	return "  " + string(b)
}

// SecretsCreate creates a secret with a SecretString.
func (a *Admin) SecretsCreate(ctx context.Context, name, value string) error {
	ref, err := a.secrets.Create(ctx, secrets.CreateInput{Name: name, Value: &secrets.Payload{SecretString: &value}})
	if err != nil {
		return err
	}
	fmt.Fprintf(a.out, "created secret %s\n", ref.ARN)
	return nil
}

// SecretsList prints every secret (never values).
func (a *Admin) SecretsList(ctx context.Context) error {
	all, err := a.secrets.List(ctx, true)
	if err != nil {
		return err
	}
	fmt.Fprintf(a.out, "%-24s %-9s %s\n", "NAME", "STATE", "ARN")
	for _, s := range all {
		st := "active"
		if s.Scheduled() {
			st = "deleting"
		}
		fmt.Fprintf(a.out, "%-24s %-9s %s\n", s.Name, st, s.ARN)
	}
	return nil
}

// SecretsGet prints a secret's current value.
func (a *Admin) SecretsGet(ctx context.Context, id string) error {
	v, err := a.secrets.GetValue(ctx, id, "", "")
	if err != nil {
		return err
	}
	if v.SecretString != nil {
		fmt.Fprintln(a.out, *v.SecretString)
	} else {
		fmt.Fprintf(a.out, "(binary, %d bytes)\n", len(v.SecretBinary))
	}
	return nil
}
