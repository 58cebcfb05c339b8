package config

import "fmt"

// validateInstances checks a replicated cluster: mysql or postgres, exactly
// one writer, distinct addresses, a health-check secret, and an address
// (when given) that is the writer's.
func validateInstances(f string, cl Cluster) error {
	if !cl.Replicated() {
		if cl.HealthCheck != (HealthCheck{}) {
			return &FieldError{f + ".health_check", "only used with instances"}
		}
		return nil
	}
	if cl.Engine != "mysql" && cl.Engine != "postgres" {
		return &FieldError{f + ".instances", fmt.Sprintf("engine %q has no replicas (want mysql or postgres)", cl.Engine)}
	}
	writer, seen := "", map[string]bool{}
	for i, in := range cl.Instances {
		fi := fmt.Sprintf("%s.instances[%d]", f, i)
		if _, err := checkAddr(in.Address); err != nil {
			return &FieldError{fi + ".address", err.Error()}
		}
		if seen[in.Address] {
			return &FieldError{fi + ".address", fmt.Sprintf("duplicate instance %q", in.Address)}
		}
		seen[in.Address] = true
		switch in.Role {
		case RoleWriter:
			if writer != "" {
				return &FieldError{fi + ".role", "a cluster has one writer"}
			}
			writer = in.Address
		case RoleReader:
		default:
			return &FieldError{fi + ".role", fmt.Sprintf("unknown role %q (want writer or reader)", in.Role)}
		}
	}
	if writer == "" {
		return &FieldError{f + ".instances", "no instance has role writer"}
	}
	if cl.Address != writer {
		return &FieldError{f + ".address", fmt.Sprintf("%q is not the writer instance %q (leave address out with instances)", cl.Address, writer)}
	}
	hc := cl.HealthCheck
	if hc.Secret == "" {
		return &FieldError{f + ".health_check.secret", "required with instances (the login of the health checks)"}
	}
	if hc.Interval < 0 || hc.Timeout < 0 {
		return &FieldError{f + ".health_check", "interval and timeout must not be negative"}
	}
	return nil
}
