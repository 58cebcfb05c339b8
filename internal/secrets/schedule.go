package secrets

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Schedule is a parsed rotation rule: a fixed interval (AutomaticallyAfterDays,
// rate(…)) or a cron expression, in UTC.
type Schedule struct {
	every  time.Duration // interval rules
	cron   *cronExpr
	window time.Duration // Duration, 0 when unset
}

// Next returns the first rotation time after base.
func (s *Schedule) Next(base time.Time) time.Time {
	if s.cron != nil {
		return s.cron.next(base.UTC())
	}
	return base.Add(s.every)
}

// Window returns the rotation window (Duration), or 0.
func (s *Schedule) Window() time.Duration { return s.window }

// Rotation rule bounds, as Secrets Manager enforces them.
const (
	MinAfterDays = 1
	MaxAfterDays = 1000
	minRate      = 4 * time.Hour
)

// ParseRules validates RotationRules and returns their schedule (nil when
// no rule is set). Errors are *ParamError worded as Secrets Manager's.
func ParseRules(r Rules) (*Schedule, error) {
	s := &Schedule{}
	switch {
	case r.AfterDays != 0 && r.Schedule != "":
		return nil, &ParamError{Msg: "You can't specify both rotation frequency in days and a schedule expression in the same rotation rule."}
	case r.AfterDays != 0:
		if r.AfterDays < MinAfterDays || r.AfterDays > MaxAfterDays {
			return nil, &ParamError{Msg: "The rotation interval must be between 1 and 1000 days."}
		}
		s.every = time.Duration(r.AfterDays) * 24 * time.Hour
	case strings.HasPrefix(r.Schedule, "rate(") && strings.HasSuffix(r.Schedule, ")"):
		d, err := parseRate(r.Schedule[5 : len(r.Schedule)-1])
		if err != nil {
			return nil, err
		}
		s.every = d
	case strings.HasPrefix(r.Schedule, "cron(") && strings.HasSuffix(r.Schedule, ")"):
		c, err := parseCron(r.Schedule[5 : len(r.Schedule)-1])
		if err != nil {
			return nil, &ParamError{Msg: "Invalid cron expression: " + err.Error()}
		}
		s.cron = c
	case r.Schedule != "":
		return nil, &ParamError{Msg: "The schedule expression must be rate(…) or cron(…)."}
	case r.Duration == "":
		return nil, nil
	default:
		return nil, &ParamError{Msg: "A rotation Duration needs AutomaticallyAfterDays or a ScheduleExpression."}
	}
	if r.Duration != "" {
		w, err := parseWindow(r.Duration)
		if err != nil {
			return nil, err
		}
		if s.every != 0 && w >= s.every {
			return nil, &ParamError{Msg: "The rotation window (Duration) must be shorter than the rotation interval."}
		}
		s.window = w
	}
	return s, nil
}

// parseRate reads "N days" / "N hours" (singular with 1).
func parseRate(v string) (time.Duration, error) {
	bad := &ParamError{Msg: "Invalid rate expression: use rate(N hours) or rate(N days), between 4 hours and 1000 days."}
	num, unit, ok := strings.Cut(strings.TrimSpace(v), " ")
	n, err := strconv.Atoi(num)
	if !ok || err != nil || n < 1 {
		return 0, bad
	}
	var d time.Duration
	switch unit {
	case "day", "days":
		d = time.Duration(n) * 24 * time.Hour
	case "hour", "hours":
		d = time.Duration(n) * time.Hour
	default:
		return 0, bad
	}
	if d < minRate || d > MaxAfterDays*24*time.Hour {
		return 0, bad
	}
	return d, nil
}

// parseWindow reads a Duration such as "3h" (1 to 24 hours).
func parseWindow(v string) (time.Duration, error) {
	h, ok := strings.CutSuffix(v, "h")
	n, err := strconv.Atoi(h)
	if !ok || err != nil || n < 1 || n > 24 {
		return 0, &ParamError{Msg: fmt.Sprintf("Invalid Duration %q: use Nh with N between 1 and 24.", v)}
	}
	return time.Duration(n) * time.Hour, nil
}
