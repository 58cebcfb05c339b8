package secrets

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// cronExpr is a Secrets Manager cron expression (EventBridge syntax, six
// fields, UTC): minutes hours day-of-month month day-of-week year. Fields
// take *, ?, numbers, names (JAN–DEC, SUN–SAT), ranges a-b, steps x/n and
// comma lists; the L, W and # forms are not supported.
type cronExpr struct {
	min, hour, dom, mon, dow [64]bool
	years                    map[int]bool // nil: any year
}

type cronField struct {
	lo, hi int
	names  []string // names[i] stands for lo+i
}

var (
	monthNames = []string{"JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"}
	dayNames   = []string{"SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"}
)

func parseCron(expr string) (*cronExpr, error) {
	f := strings.Fields(expr)
	if len(f) != 6 {
		return nil, errors.New("want 6 fields: minutes hours day-of-month month day-of-week year")
	}
	if (f[2] == "?") == (f[4] == "?") {
		return nil, errors.New("exactly one of day-of-month and day-of-week must be ?")
	}
	c := &cronExpr{}
	specs := []struct {
		v   string
		dst *[64]bool
		f   cronField
	}{
		{f[0], &c.min, cronField{0, 59, nil}},
		{f[1], &c.hour, cronField{0, 23, nil}},
		{f[2], &c.dom, cronField{1, 31, nil}},
		{f[3], &c.mon, cronField{1, 12, monthNames}},
		{f[4], &c.dow, cronField{1, 7, dayNames}},
	}
	for _, s := range specs {
		if err := s.f.parse(s.v, s.dst); err != nil {
			return nil, err
		}
	}
	if f[5] != "*" {
		years, err := parseYears(f[5])
		if err != nil {
			return nil, err
		}
		c.years = years
	}
	return c, nil
}

// parse sets dst[v] for every value the field selects.
func (cf cronField) parse(v string, dst *[64]bool) error {
	if v == "*" || v == "?" {
		for i := cf.lo; i <= cf.hi; i++ {
			dst[i] = true
		}
		return nil
	}
	for _, part := range strings.Split(v, ",") {
		lo, hi, step, err := cf.rangeOf(part)
		if err != nil {
			return err
		}
		for i := lo; i <= hi; i += step {
			dst[i] = true
		}
	}
	return nil
}

// parseYears reads the year field (1970–2199) into a set.
func parseYears(v string) (map[int]bool, error) {
	yf := cronField{lo: 1970, hi: 2199}
	m := map[int]bool{}
	for _, part := range strings.Split(v, ",") {
		lo, hi, step, err := yf.rangeOf(part)
		if err != nil {
			return nil, err
		}
		for i := lo; i <= hi; i += step {
			m[i] = true
		}
	}
	return m, nil
}

func (cf cronField) rangeOf(part string) (lo, hi, step int, err error) {
	step = 1
	if base, s, ok := strings.Cut(part, "/"); ok {
		if step, err = strconv.Atoi(s); err != nil || step < 1 {
			return 0, 0, 0, fmt.Errorf("bad step in %q", part)
		}
		part = base
	}
	if part == "*" {
		return cf.lo, cf.hi, step, nil
	}
	a, b, isRange := strings.Cut(part, "-")
	if lo, err = cf.value(a); err != nil {
		return 0, 0, 0, err
	}
	hi = lo
	if isRange {
		if hi, err = cf.value(b); err != nil {
			return 0, 0, 0, err
		}
	} else if step > 1 {
		hi = cf.hi
	}
	if hi < lo {
		return 0, 0, 0, fmt.Errorf("bad range %q", part)
	}
	return lo, hi, step, nil
}

func (cf cronField) value(s string) (int, error) {
	for i, n := range cf.names {
		if strings.EqualFold(s, n) {
			return cf.lo + i, nil
		}
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < cf.lo || n > cf.hi {
		return 0, fmt.Errorf("value %q out of range %d-%d", s, cf.lo, cf.hi)
	}
	return n, nil
}

// next returns the first matching minute strictly after t, or the zero
// time when none comes within ten years.
func (c *cronExpr) next(t time.Time) time.Time {
	t = t.Truncate(time.Minute).Add(time.Minute)
	end := t.AddDate(10, 0, 0)
	for t.Before(end) {
		if c.years != nil && !c.years[t.Year()] || !c.mon[int(t.Month())] || !c.dom[t.Day()] || !c.dow[int(t.Weekday())+1] {
			t = time.Date(t.Year(), t.Month(), t.Day()+1, 0, 0, 0, 0, time.UTC)
			continue
		}
		if !c.hour[t.Hour()] {
			t = time.Date(t.Year(), t.Month(), t.Day(), t.Hour()+1, 0, 0, 0, time.UTC)
			continue
		}
		if !c.min[t.Minute()] {
			t = t.Add(time.Minute)
			continue
		}
		return t
	}
	return time.Time{}
}
