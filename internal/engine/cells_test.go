package engine

import (
	"errors"
	"strconv"
	"testing"
)

func TestCanonicalInt(t *testing.T) {
	for s, want := range map[string]bool{
		"0": true, "7": true, "-7": true, "123456789012345678": true, "-123456789012345678": true,
		"": false, "-": false, "-0": false, "007": false, "+7": false, "1e3": false, " 7": false,
		"1234567890123456789": false, // 19 digits: may not fit, parsed instead
	} {
		if got := CanonicalInt(s); got != want {
			t.Errorf("CanonicalInt(%q) = %v, want %v", s, got, want)
		}
		if want {
			if n, err := strconv.ParseInt(s, 10, 64); err != nil || strconv.FormatInt(n, 10) != s {
				t.Errorf("%q is not canonical after all", s)
			}
		}
	}
}

func TestDoubleText(t *testing.T) {
	for s, want := range map[string]bool{
		"NaN": true, "Infinity": true, "-Infinity": true, "0": true, "-0": true, "1.5": true, ".5": true, "1.": true,
		"1e+280": true, "1e-280": true, "12345678901234567890": true, "1.2345678901234567e+20": true,
		"1e281": false, "1e-281": false, "1e1000": false, "123456789012345678901": false, "": false, "-": false,
		".": false, "e5": false, "1e": false, "1e+": false, "1.2.3": false, "0x10": false, "inf": false, "1_0": false,
	} {
		if got := DoubleText(s); got != want {
			t.Errorf("DoubleText(%q) = %v, want %v", s, got, want)
		}
		if want {
			if _, err := strconv.ParseFloat(s, 64); err != nil {
				t.Errorf("DoubleText(%q) but ParseFloat: %v", s, err)
			}
		}
	}
}

// fakeCells decodes row*10+col, failing at (2, 1).
type fakeCells struct{}

func (fakeCells) Len() int { return 3 }

func (fakeCells) Value(row, col int) (Value, error) {
	if row == 2 && col == 1 {
		return Value{}, errors.New("bad value")
	}
	return Long(int64(row*10 + col)), nil
}

func TestResult_lazyAccess(t *testing.T) {
	r := &Result{HasResultSet: true, Columns: make([]Column, 2), Cells: fakeCells{}}
	if r.NumRows() != 3 || r.RowLen(0) != 2 {
		t.Fatalf("NumRows %d, RowLen %d", r.NumRows(), r.RowLen(0))
	}
	if v, err := r.At(1, 1); err != nil || v.Long != 11 {
		t.Fatalf("At(1, 1) = %+v, %v", v, err)
	}
	if err := r.Materialize(); err == nil || r.Cells == nil {
		t.Fatalf("Materialize over a bad value: %v (Cells kept: %v)", err, r.Cells != nil)
	}
	r.Cells = fakeCellsOK{}
	if err := r.Materialize(); err != nil || r.Cells != nil || len(r.Rows) != 3 || r.Rows[2][1].Long != 21 {
		t.Fatalf("Materialize: %v, rows %+v", err, r.Rows)
	}
	if r.NumRows() != 3 || r.RowLen(2) != 2 {
		t.Fatalf("after Materialize: NumRows %d, RowLen %d", r.NumRows(), r.RowLen(2))
	}
}

type fakeCellsOK struct{}

func (fakeCellsOK) Len() int                          { return 3 }
func (fakeCellsOK) Value(row, col int) (Value, error) { return Long(int64(row*10 + col)), nil }
