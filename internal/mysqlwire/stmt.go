package mysqlwire

// Prepared statements (binary protocol):
// https://dev.mysql.com/doc/dev/mysql-server/latest/page_protocol_com_stmt_prepare.html
// https://dev.mysql.com/doc/dev/mysql-server/latest/page_protocol_com_stmt_execute.html

import (
	"encoding/binary"
	"fmt"
	"math"
)

// Stmt is a statement prepared on the server.
type Stmt struct {
	ID      uint32
	Params  []Column
	Columns []Column
}

// Prepare sends COM_STMT_PREPARE.
func (c *Client) Prepare(sql string) (*Stmt, error) {
	if err := c.pc.Command(append([]byte{ComStmtPrepare}, sql...)); err != nil {
		return nil, err
	}
	p, err := c.pc.ReadPacket()
	if err != nil {
		return nil, unexpectedEOF(err)
	}
	if len(p) > 0 && p[0] == HdrERR {
		return nil, ParseErr(p)
	}
	st, nParams, nCols, err := ParsePrepareOK(p)
	if err != nil {
		return nil, err
	}
	if st.Params, err = c.readDefs(nParams); err != nil {
		return nil, err
	}
	if st.Columns, err = c.readDefs(nCols); err != nil {
		return nil, err
	}
	return st, nil
}

// ParsePrepareOK decodes COM_STMT_PREPARE_OK.
func ParsePrepareOK(p []byte) (st *Stmt, params, cols int, err error) {
	if len(p) < 12 || p[0] != HdrOK {
		return nil, 0, 0, ErrMalformed
	}
	st = &Stmt{ID: binary.LittleEndian.Uint32(p[1:])}
	cols = int(binary.LittleEndian.Uint16(p[5:]))
	params = int(binary.LittleEndian.Uint16(p[7:]))
	return st, params, cols, nil
}

func (c *Client) readDefs(n int) ([]Column, error) {
	if n == 0 {
		return nil, nil
	}
	out := make([]Column, n)
	for i := range out {
		p, err := c.pc.ReadPacket()
		if err != nil {
			return nil, unexpectedEOF(err)
		}
		if out[i], err = ParseColumn(p); err != nil {
			return nil, err
		}
	}
	if c.caps&CapDeprecateEOF == 0 {
		if _, err := c.pc.ReadPacket(); err != nil {
			return nil, unexpectedEOF(err)
		}
	}
	return out, nil
}

// Execute sends COM_STMT_EXECUTE with args (nil, bool, int64, uint64,
// float64, string or []byte, one per parameter) and reads the response
// like Query; rows are decoded from the binary protocol.
func (c *Client) Execute(st *Stmt, args []any) (*Rows, error) {
	pkt, err := AppendExecute(c.scratch[:0], st.ID, args)
	if err != nil {
		return nil, err
	}
	c.scratch = pkt
	if err := c.pc.Command(pkt); err != nil {
		return nil, err
	}
	return c.readResult(true)
}

// CloseStmt sends COM_STMT_CLOSE (the server does not answer).
func (c *Client) CloseStmt(st *Stmt) error {
	b := binary.LittleEndian.AppendUint32([]byte{ComStmtClose}, st.ID)
	return c.pc.Command(b)
}

// AppendExecute builds a COM_STMT_EXECUTE packet binding args.
func AppendExecute(b []byte, id uint32, args []any) ([]byte, error) {
	b = append(b, ComStmtExecute)
	b = binary.LittleEndian.AppendUint32(b, id)
	b = append(b, 0)                           // CURSOR_TYPE_NO_CURSOR
	b = binary.LittleEndian.AppendUint32(b, 1) // iteration count
	if len(args) == 0 {
		return b, nil
	}
	nullAt := len(b)
	b = append(b, make([]byte, (len(args)+7)/8)...)
	b = append(b, 1) // new params bound
	for i, a := range args {
		t, flag := paramType(a)
		if t == TypeNull {
			b[nullAt+i/8] |= 1 << (i % 8)
		}
		b = append(b, t, flag)
	}
	for i, a := range args {
		var err error
		if b, err = appendParam(b, a); err != nil {
			return nil, fmt.Errorf("parameter %d: %w", i+1, err)
		}
	}
	return b, nil
}

func paramType(a any) (byte, byte) {
	switch a.(type) {
	case nil:
		return TypeNull, 0
	case bool:
		return TypeTiny, 0
	case int64:
		return TypeLongLong, 0
	case uint64:
		return TypeLongLong, 0x80
	case float64:
		return TypeDouble, 0
	case []byte:
		return TypeBlob, 0
	}
	return TypeVarString, 0
}

func appendParam(b []byte, a any) ([]byte, error) {
	switch v := a.(type) {
	case nil:
		return b, nil
	case bool:
		if v {
			return append(b, 1), nil
		}
		return append(b, 0), nil
	case int64:
		return binary.LittleEndian.AppendUint64(b, uint64(v)), nil
	case uint64:
		return binary.LittleEndian.AppendUint64(b, v), nil
	case float64:
		return binary.LittleEndian.AppendUint64(b, math.Float64bits(v)), nil
	case []byte:
		return AppendLenencString(b, v), nil
	case string:
		return AppendLenencString(b, []byte(v)), nil
	}
	return nil, fmt.Errorf("unsupported parameter type %T", a)
}
