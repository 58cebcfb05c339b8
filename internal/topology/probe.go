package topology

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/sqlgate/sqlgate/internal/engine"
)

// ProbeFor returns the Probe of an engine name from the config ("mysql",
// "postgres"); nil for engines without replicas.
func ProbeFor(engineName string) Probe {
	switch engineName {
	case "mysql":
		return ProbeMySQL
	case "postgres":
		return ProbePostgres
	}
	return nil
}

// pgQuery reads the role and, on a standby, the lag by LSN: WAL received
// but not replayed, and the age of the last replayed transaction while
// there is such WAL (on an idle, caught-up standby that age grows without
// any lag, so it only counts while WAL waits). A standby that replayed
// no transaction since it started holds data from before its start, so
// while WAL waits its lag is at least its uptime. A standby without a WAL
// receiver is not replicating.
const pgQuery = `SELECT pg_is_in_recovery(),
  COALESCE(pg_wal_lsn_diff(pg_last_wal_receive_lsn(), pg_last_wal_replay_lsn()), 0)::bigint,
  CASE WHEN pg_last_wal_receive_lsn() > pg_last_wal_replay_lsn()
    THEN EXTRACT(EPOCH FROM now() - COALESCE(pg_last_xact_replay_timestamp(), pg_postmaster_start_time()))::float8
    ELSE 0::float8 END,
  EXISTS (SELECT 1 FROM pg_stat_wal_receiver)`

// ProbePostgres reads the role with pg_is_in_recovery() and a standby's
// lag by LSN.
func ProbePostgres(ctx context.Context, c engine.Conn) (Observation, error) {
	res, err := c.Exec(ctx, pgQuery, nil, 0)
	if err != nil {
		return Observation{}, err
	}
	if len(res.Rows) != 1 || len(res.Rows[0]) != 4 {
		return Observation{}, fmt.Errorf("role query: unexpected result shape")
	}
	row := res.Rows[0]
	if !row[0].Bool {
		return Observation{Role: RoleWriter}, nil
	}
	o := Observation{Role: RoleReader, LagBytes: row[1].Long, Lag: seconds(row[2].Double)}
	if !row[3].Bool {
		o.Unhealthy = "replication stopped (no WAL receiver)"
	}
	return o, nil
}

// ProbeMySQL reads the role from SHOW SLAVE STATUS and @@read_only: an
// instance replicating from another is a reader, healthy only while
// Seconds_Behind_Master is not NULL (NULL means replication stopped); a
// writable instance that replicates from nothing is a writer. The login
// needs the REPLICA MONITOR (MariaDB) or REPLICATION CLIENT privilege.
func ProbeMySQL(ctx context.Context, c engine.Conn) (Observation, error) {
	res, err := c.Exec(ctx, "SELECT @@global.read_only", nil, 0)
	if err != nil {
		return Observation{}, err
	}
	if len(res.Rows) != 1 || len(res.Rows[0]) != 1 {
		return Observation{}, fmt.Errorf("read_only query: unexpected result shape")
	}
	readOnly, _ := intValue(res.Rows[0][0])
	res, err = c.Exec(ctx, "SHOW SLAVE STATUS", nil, 0)
	if err != nil {
		return Observation{}, err
	}
	if len(res.Rows) == 0 {
		if readOnly != 0 {
			return Observation{Role: RoleReader, Unhealthy: "read-only and not replicating"}, nil
		}
		return Observation{Role: RoleWriter}, nil
	}
	col := -1
	for i, cm := range res.Columns {
		if strings.EqualFold(cm.Name, "Seconds_Behind_Master") || strings.EqualFold(cm.Label, "Seconds_Behind_Master") {
			col = i
		}
	}
	if col < 0 {
		return Observation{}, fmt.Errorf("SHOW SLAVE STATUS: no Seconds_Behind_Master column")
	}
	secs, ok := intValue(res.Rows[0][col])
	if !ok {
		return Observation{Role: RoleReader, Unhealthy: "replication stopped (Seconds_Behind_Master is NULL)"}, nil
	}
	return Observation{Role: RoleReader, Lag: time.Duration(secs) * time.Second}, nil
}

// intValue reads an integer the server may send as a number or text;
// false for NULL or anything else.
func intValue(v engine.Value) (int64, bool) {
	switch v.Kind {
	case engine.KindLong:
		return v.Long, true
	case engine.KindBool:
		if v.Bool {
			return 1, true
		}
		return 0, true
	case engine.KindDouble:
		return int64(v.Double), true
	case engine.KindString:
		n, err := strconv.ParseInt(strings.TrimSpace(v.String), 10, 64)
		return n, err == nil
	}
	return 0, false
}

func seconds(f float64) time.Duration {
	if f <= 0 {
		return 0
	}
	return time.Duration(f * float64(time.Second))
}
