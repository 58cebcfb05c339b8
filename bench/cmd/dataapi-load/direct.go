package main

import (
	"context"
	"database/sql"
	"errors"
	"strings"

	_ "github.com/go-sql-driver/mysql"
	"github.com/jackc/pgx/v5"
)

// directClient runs the same statement straight on the database (pgx, or
// go-sql-driver/mysql with interpolateParams), for the "added latency
// over direct" comparison. One connection per worker.
type directClient struct {
	pg   *pgx.Conn
	my   *sql.Conn
	sql  string
	args []any
}

func newDirectClient(c *config) (*directClient, error) {
	d := &directClient{sql: c.sqlQ}
	if c.param >= 0 {
		d.args = []any{c.param}
	}
	ctx := context.Background()
	switch {
	case strings.HasSuffix(c.resourceArn, ":pg"):
		conn, err := pgx.Connect(ctx, c.directPG)
		if err != nil {
			return nil, err
		}
		d.pg, d.sql = conn, strings.ReplaceAll(d.sql, ":v", "$1")
	case strings.HasSuffix(c.resourceArn, ":maria"):
		db, err := sql.Open("mysql", c.directMySQL)
		if err != nil {
			return nil, err
		}
		if d.my, err = db.Conn(ctx); err != nil {
			return nil, err
		}
		d.sql = strings.ReplaceAll(d.sql, ":v", "?")
	default:
		return nil, errors.New("direct: -resource-arn must end in :pg or :maria")
	}
	return d, nil
}

func (d *directClient) do(ctx context.Context) error {
	if d.pg != nil {
		rows, err := d.pg.Query(ctx, d.sql, d.args...)
		if err != nil {
			return err
		}
		for rows.Next() {
			if _, err := rows.Values(); err != nil {
				rows.Close()
				return err
			}
		}
		rows.Close()
		return rows.Err()
	}
	rows, err := d.my.QueryContext(ctx, d.sql, d.args...)
	if err != nil {
		return err
	}
	cols, _ := rows.Columns()
	vals := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			rows.Close()
			return err
		}
	}
	rows.Close()
	return rows.Err()
}
