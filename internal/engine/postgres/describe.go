package postgres

import (
	"context"
	"errors"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/sqlgate/sqlgate/internal/engine"
)

// maxCached bounds each per-connection catalog cache; past it the cache is
// simply emptied.
const maxCached = 4096

// attrKey names a table column as RowDescription does.
type attrKey struct {
	table  uint32
	attnum uint16
}

// attrInfo is what pgjdbc's fetchFieldMetaData learns about a table column.
type attrInfo struct {
	table   string
	notNull bool
	autoInc bool
}

// DescribeColumns completes res, the result most recently returned by Exec on
// this connection, with the table-derived column metadata pgjdbc reports:
// tableName, nullable (0/1 instead of 2 = unknown), isAutoIncrement and the
// serial/bigserial/smallserial type names.
//
// Exec leaves these out because they need a catalog query; the Data API layer
// calls DescribeColumns only when includeResultMetadata is set. Answers are
// cached per connection and the cache is dropped when this connection runs
// DDL (DDL on other connections can leave it stale until the conn closes).
func (c *Conn) DescribeColumns(ctx context.Context, res *engine.Result) error {
	if res == nil || !res.HasResultSet {
		return nil
	}
	if res != c.last.res {
		return errors.New("describe columns: not the latest result of this connection")
	}
	refs := c.last.refs
	var rels, nums []string
	for _, k := range refs {
		if _, ok := c.attrs[k]; k.table != 0 && !ok {
			rels = append(rels, strconv.FormatUint(uint64(k.table), 10))
			nums = append(nums, strconv.FormatUint(uint64(k.attnum), 10))
		}
	}
	if len(rels) > 0 {
		if err := c.loadAttrs(ctx, rels, nums); err != nil {
			return err
		}
	}
	for i, k := range refs {
		a, ok := c.attrs[k]
		if !ok {
			continue
		}
		col := &res.Columns[i]
		col.TableName = a.table
		col.Nullable = 1
		if a.notNull {
			col.Nullable = 0
		}
		col.IsAutoIncrement = a.autoInc
		if a.autoInc {
			switch col.TypeName {
			case "int4":
				col.TypeName = "serial"
			case "int8":
				col.TypeName = "bigserial"
			case "int2":
				col.TypeName = "smallserial"
			}
		}
	}
	return nil
}

const attrQuery = `SELECT c.oid, a.attnum, c.relname,
	a.attnotnull OR (t.typtype = 'd' AND t.typnotnull),
	a.attidentity <> '' OR COALESCE(pg_catalog.pg_get_expr(d.adbin, d.adrelid) LIKE '%nextval(%', false)
FROM pg_catalog.pg_class c
JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid
JOIN pg_catalog.pg_type t ON t.oid = a.atttypid
LEFT JOIN pg_catalog.pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
JOIN unnest($1::oid[], $2::int2[]) AS v(rel, num) ON c.oid = v.rel AND a.attnum = v.num`

func (c *Conn) loadAttrs(ctx context.Context, rels, nums []string) error {
	rows, err := c.catalog(ctx, attrQuery, "{"+strings.Join(rels, ",")+"}", "{"+strings.Join(nums, ",")+"}")
	if err != nil {
		return err
	}
	if len(c.attrs)+len(rows) > maxCached {
		c.attrs = map[attrKey]attrInfo{}
	}
	for _, r := range rows {
		rel, _ := strconv.ParseUint(string(r[0]), 10, 32)
		num, _ := strconv.ParseUint(string(r[1]), 10, 16)
		c.attrs[attrKey{uint32(rel), uint16(num)}] = attrInfo{
			table:   string(r[2]),
			notNull: string(r[3]) == "t",
			autoInc: string(r[4]) == "t",
		}
	}
	return nil
}

// typeInfos returns the typeInfo of every field and of its array element,
// looking up user-defined types in pg_type (cached per connection).
func (c *Conn) typeInfos(ctx context.Context, fields []pgconn.FieldDescription) (infos, elems []typeInfo, err error) {
	var missing []uint32
	for _, f := range fields {
		if _, ok := c.typeInfo(f.DataTypeOID); !ok {
			missing = append(missing, f.DataTypeOID)
		}
	}
	if len(missing) > 0 {
		if err := c.loadTypes(ctx, missing); err != nil {
			return nil, nil, err
		}
	}
	infos = make([]typeInfo, len(fields))
	elems = make([]typeInfo, len(fields))
	for i, f := range fields {
		infos[i], _ = c.typeInfo(f.DataTypeOID)
		if infos[i].codec == codecArray {
			elems[i], _ = c.typeInfo(infos[i].elem)
		}
	}
	return infos, elems, nil
}

func (c *Conn) typeInfo(oid uint32) (typeInfo, bool) {
	if ti, ok := lookupStatic(oid); ok {
		return ti, true
	}
	ti, ok := c.types[oid]
	return ti, ok
}

const typeQuery = `SELECT oid, typname, typtype, typelem, typbasetype, typcategory
FROM pg_catalog.pg_type WHERE oid = ANY($1::oid[])`

// loadTypes resolves OIDs missing from the static table: enums and other
// user base or composite types read as text; domains as their base type;
// arrays of them as arrays; ranges, pseudo-types and unknown built-ins are
// unsupported. Domain bases and array elements may need further rounds.
func (c *Conn) loadTypes(ctx context.Context, oids []uint32) error {
	if len(c.types)+len(oids) > maxCached {
		c.types = map[uint32]typeInfo{}
	}
	type pgType struct {
		name, typtype, category string
		elem, base              uint32
	}
	pending := map[uint32]pgType{}
	for round := 0; len(oids) > 0 && round < 4; round++ {
		list := make([]string, len(oids))
		for i, o := range oids {
			list[i] = strconv.FormatUint(uint64(o), 10)
		}
		rows, err := c.catalog(ctx, typeQuery, "{"+strings.Join(list, ",")+"}")
		if err != nil {
			return err
		}
		for _, r := range rows {
			oid, _ := strconv.ParseUint(string(r[0]), 10, 32)
			elem, _ := strconv.ParseUint(string(r[3]), 10, 32)
			base, _ := strconv.ParseUint(string(r[4]), 10, 32)
			pending[uint32(oid)] = pgType{name: string(r[1]), typtype: string(r[2]), elem: uint32(elem), base: uint32(base), category: string(r[5])}
		}
		for _, o := range oids { // OIDs the catalog doesn't know
			if _, ok := pending[o]; !ok {
				c.types[o] = unsupportedType(o, "oid "+strconv.FormatUint(uint64(o), 10))
			}
		}
		oids = nil
		for oid, t := range pending {
			dep := uint32(0)
			switch {
			case t.typtype == "d":
				dep = t.base
			case t.category == "A" && t.elem != 0:
				dep = t.elem
			}
			var depInfo typeInfo
			if dep != 0 {
				ti, ok := c.typeInfo(dep)
				if !ok {
					oids = append(oids, dep)
					continue
				}
				depInfo = ti
			}
			c.types[oid] = userType(oid, t.name, t.typtype, dep, depInfo)
			delete(pending, oid)
		}
	}
	for oid, t := range pending { // unresolved after the rounds
		c.types[oid] = unsupportedType(oid, t.name)
	}
	return nil
}

// userType maps a pg_type row of a type missing from the static table; dep is
// a domain's base type or an array's element type.
func userType(oid uint32, name, typtype string, dep uint32, depInfo typeInfo) typeInfo {
	switch {
	case oid < firstUserOID && typtype != "d":
		return unsupportedType(oid, name) // a built-in outside the allow-list
	case typtype == "d":
		ti := depInfo
		ti.name = name
		return ti
	case dep != 0: // array
		if depInfo.codec == codecArray || depInfo.codec == codecUnsupported || depInfo.codec == codecBytea {
			return unsupportedType(oid, name)
		}
		return arrayOf(name, dep)
	case typtype == "e", typtype == "b", typtype == "c":
		return typeInfo{name: name, codec: codecText, jdbc: engine.JDBCOther}
	default: // ranges, multiranges, pseudo-types
		return unsupportedType(oid, name)
	}
}

// catalog runs an internal catalog query with text parameters and returns
// its rows.
func (c *Conn) catalog(ctx context.Context, sql string, args ...string) ([][][]byte, error) {
	vals := make([][]byte, len(args))
	for i, a := range args {
		vals[i] = []byte(a)
	}
	res := c.pg.ExecParams(ctx, sql, vals, nil, nil, nil).Read()
	if res.Err != nil {
		return nil, c.execErr(ctx, res.Err)
	}
	return res.Rows, nil
}

func (c *Conn) resetCaches() {
	clear(c.types)
	clear(c.attrs)
}
