package server

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/rdsdata"
)

// isoKind is one kind of session state: set(v) changes it, probe reads
// it. txOK kinds may run inside a transaction (their probe cannot fail
// and abort it).
type isoKind struct {
	set   func(v int) string
	probe string
	txOK  bool
}

func kindsFor(engine string) []isoKind {
	s := func(f string) func(int) string { return func(v int) string { return fmt.Sprintf(f, v) } }
	switch engine {
	case "mysql":
		return []isoKind{
			{s("SET @v = 'x%d'"), "SELECT CAST(COALESCE(@v, 'unset') AS CHAR)", true},
			{s("USE mysql /* %d */"), "SELECT DATABASE()", true},
			{s("SET NAMES gbk /* %d */"), "SELECT @@character_set_client", true},
			{s("SET character_set_results = latin1 /* %d */"), "SELECT CAST(COALESCE(@@character_set_results, 'none') AS CHAR)", true},
			{s("SET time_zone = '+0%d:00'"), "SELECT @@time_zone", true},
			{s("SET sql_mode = 'ANSI_QUOTES' /* %d */"), "SELECT @@sql_mode", true},
			{s("SET SESSION max_statement_time = 0.00%d"), "SELECT CAST(@@max_statement_time AS CHAR)", true},
			{s("SET div_precision_increment = 1%d"), "SELECT CAST(@@div_precision_increment AS CHAR)", true},
			{s("SET group_concat_max_len = 100%d"), "SELECT CAST(@@group_concat_max_len AS CHAR)", true},
			{s("SET lock_wait_timeout = 10%d"), "SELECT CAST(@@lock_wait_timeout AS CHAR)", true},
			{s("CREATE TEMPORARY TABLE iso_tmp (i int) /* %d */"), "SELECT CAST(COUNT(*) AS CHAR) FROM iso_tmp", false},
			{s("SELECT %d INTO @w"), "SELECT CAST(COALESCE(@w, 'unset') AS CHAR)", true},
			{s("SET SESSION wait_timeout = 100%d"), "SELECT CAST(@@wait_timeout AS CHAR)", true},
			{s("SET collation_connection = 'latin1_swedish_ci' /* %d */"), "SELECT @@collation_connection", true},
			{s("SET sql_select_limit = %d"), "SELECT CAST(@@sql_select_limit AS CHAR)", true},
			{s("SET SESSION tx_isolation = 'SERIALIZABLE' /* %d */"), "SELECT @@tx_isolation", true},
			{s("SELECT GET_LOCK(CONCAT('iso_lock_', CONNECTION_ID()), 0) + %d"),
				"SELECT CAST(COALESCE(IS_USED_LOCK(CONCAT('iso_lock_', CONNECTION_ID())) = CONNECTION_ID(), 0) AS CHAR)", true},
			{s("SET foreign_key_checks = 0 /* %d */"), "SELECT CAST(@@foreign_key_checks AS CHAR)", true},
			{s("SET unique_checks = 0 /* %d */"), "SELECT CAST(@@unique_checks AS CHAR)", true},
			{s("SET SESSION net_write_timeout = 6%d"), "SELECT CAST(@@net_write_timeout AS CHAR)", true},
			{s("SET max_join_size = 100%d"), "SELECT CAST(@@max_join_size AS CHAR)", true},
			{s("SET SESSION max_sort_length = 100%d"), "SELECT CAST(@@max_sort_length AS CHAR)", true},
			{s("PREPARE iso_s FROM 'SELECT %d'"), "EXECUTE iso_s", false},
			{s("SET @@session.optimizer_search_depth = %d"), "SELECT CAST(@@optimizer_search_depth AS CHAR)", true},
			{s("SET SESSION auto_increment_increment = 1%d"), "SELECT CAST(@@auto_increment_increment AS CHAR)", true},
			{s("SET SESSION sql_auto_is_null = 1 /* %d */"), "SELECT CAST(@@sql_auto_is_null AS CHAR)", true},
			{s("SET @@session.long_query_time = %d"), "SELECT CAST(@@long_query_time AS CHAR)", true},
		}
	case "postgres":
		return []isoKind{
			{s("SET search_path TO s_%d"), "SELECT current_setting('search_path')", true},
			{s("SET TimeZone = 'Etc/GMT+%d'"), "SELECT current_setting('TimeZone')", true},
			{s("SET application_name = 'app_%d'"), "SELECT current_setting('application_name')", true},
			{s("SET statement_timeout = '%ds'"), "SELECT current_setting('statement_timeout')", true}, // seconds: a few ms would cancel the next statement on a loaded machine
			{s("SET lock_timeout = %d"), "SELECT current_setting('lock_timeout')", true},
			{s("SET work_mem = '1%d MB'"), "SELECT current_setting('work_mem')", true},
			{s("SET iso.v = 'x%d'"), "SELECT COALESCE(NULLIF(current_setting('iso.v', true), ''), 'unset')", true},
			{s("SET ROLE iso_role /* %d */"), "SELECT current_user::text", true},
			{s("SET SESSION AUTHORIZATION iso_role /* %d */"), "SELECT session_user::text", true},
			{s("DO $$BEGIN PERFORM set_config('TimeZone', 'Etc/GMT-%d', false); END$$"), "SELECT current_setting('TimeZone')", true},
			{s("SELECT set_config('search_path', 'q_%d', false)"), "SELECT current_setting('search_path')", true},
			{s("SELECT %d AS s INTO TEMP iso_t"), "SELECT count(*)::text FROM pg_class WHERE relname = 'iso_t' AND relnamespace = pg_my_temp_schema()", true},
			// The engine's own statement cache (_sqlgate_N) is not caller state.
			{s("PREPARE iso_q_%d AS SELECT 1"), "SELECT count(*)::text FROM pg_prepared_statements WHERE name NOT LIKE '\\_sqlgate\\_%'", true},
			{s("LISTEN iso_ch_%d"), "SELECT count(*)::text FROM pg_listening_channels()", false}, // takes effect at commit
			{s("SELECT pg_advisory_lock(%d)"), "SELECT count(*)::text FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()", true},
			{s("DECLARE iso_c%d CURSOR WITH HOLD FOR SELECT 1"), "SELECT count(*)::text FROM pg_cursors", true},
			{s("SET DateStyle = 'German' /* %d */"), "SELECT current_setting('DateStyle')", true},
			{s("SET client_min_messages = 'error' /* %d */"), "SELECT current_setting('client_min_messages')", true},
			{s("SET default_transaction_read_only = on /* %d */"), "SELECT current_setting('default_transaction_read_only')", true},
			{s("SET extra_float_digits = -%d"), "SELECT current_setting('extra_float_digits')", true},
			{s("SET IntervalStyle = 'iso_8601' /* %d */"), "SELECT current_setting('IntervalStyle')", true},
			{s("SET bytea_output = 'escape' /* %d */"), "SELECT current_setting('bytea_output')", true},
			{s("CREATE TEMP SEQUENCE iso_seq_%d"), "SELECT count(*)::text FROM pg_class WHERE relkind = 'S' AND relnamespace = pg_my_temp_schema()", true},
			{s("SET enable_seqscan = off /* %d */"), "SELECT current_setting('enable_seqscan')", true},
			{s("SET standard_conforming_strings = off /* %d */"), "SELECT current_setting('standard_conforming_strings')", true},
			{s("SELECT nextval('iso_serial_seq') + %d"), "SELECT lastval()::text", false},
			{s("SET client_encoding = 'LATIN1' /* %d */"), "SELECT current_setting('client_encoding')", true},
			{s("SET random_page_cost = 1%d.5"), "SELECT current_setting('random_page_cost')", true},
		}
	}
	return nil
}

// TestIsolation_RandomInterleaving: two principals issue random
// state-changing statements on a two-connection pool, concurrently, in
// and out of transactions; after every change the other principal, and
// the same one in its next call, see the state of a new session, while
// inside a transaction the change holds for its statements.
func TestIsolation_RandomInterleaving(t *testing.T) {
	rounds := 1000
	if n, err := strconv.Atoi(os.Getenv("SQLGATE_ISO_ROUNDS")); err == nil && n > 0 {
		rounds = n
	}
	if testing.Short() {
		rounds = 50
	}
	for _, e := range isoEngines(t) {
		kinds := kindsFor(e.engine)
		if kinds == nil {
			continue
		}
		t.Run(e.engine, func(t *testing.T) {
			if len(kinds) < 25 {
				t.Fatalf("%d kinds, want at least 25", len(kinds))
			}
			e.srv.clusters[0].pool.SetMax(2)
			if e.engine == "postgres" {
				e.run(e.a, "DO $$BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'iso_role') THEN CREATE ROLE iso_role; END IF; END$$")
				e.run(e.a, "GRANT iso_role TO CURRENT_USER")
				e.run(e.a, "CREATE SEQUENCE IF NOT EXISTS iso_serial_seq")
			}
			base := make([]string, len(kinds))
			for i, k := range kinds {
				base[i] = e.value(t, e.a, k.probe)
			}
			var wg sync.WaitGroup
			for p, c := range []*rdsdata.Client{e.a, e.b} {
				wg.Add(1)
				go func() {
					defer wg.Done()
					r := rand.New(rand.NewPCG(uint64(p), 42))
					for round := 0; round < rounds && !t.Failed(); round++ {
						i := r.IntN(len(kinds))
						if err := e.interleave(c, kinds[i], base[i], 1+r.IntN(8), r.IntN(3) == 0); err != nil {
							t.Errorf("principal %d round %d: %v", p, round, err)
						}
					}
				}()
			}
			wg.Wait()
			if st := e.srv.clusters[0].pool.Stats(); st.Busy != 0 {
				t.Errorf("pool after the rounds: %+v", st)
			}
		})
	}
}

// interleave is one round: set, then probe in the same transaction (when
// tx) and in a new call.
func (e isoEnv) interleave(c *rdsdata.Client, k isoKind, base string, v int, tx bool) error {
	ctx := context.Background()
	sql := k.set(v)
	if tx && k.txOK {
		b, err := c.BeginTransaction(ctx, &rdsdata.BeginTransactionInput{ResourceArn: aws.String(e.arn), SecretArn: aws.String(e.secret)})
		if err != nil {
			return err
		}
		id := aws.ToString(b.TransactionId)
		_, err = e.runTx(c, id, sql)
		var inTx string
		if err == nil {
			out, perr := e.runTx(c, id, k.probe)
			if err = perr; err == nil {
				inTx = fieldText(out.Records[0][0])
			}
		}
		if _, cerr := c.CommitTransaction(ctx, &rdsdata.CommitTransactionInput{ResourceArn: aws.String(e.arn),
			SecretArn: aws.String(e.secret), TransactionId: aws.String(id)}); cerr != nil && err == nil {
			err = cerr
		}
		if err != nil {
			return fmt.Errorf("%s in a transaction: %w", sql, err)
		}
		if inTx == base {
			return fmt.Errorf("%s in a transaction: %s = %q, unchanged for the rest of it", sql, k.probe, inTx)
		}
	} else if _, err := e.run(c, sql); err != nil {
		return fmt.Errorf("%s: %w", sql, err)
	}
	out, err := e.run(c, k.probe)
	got := ""
	if err != nil {
		code, _ := apiCode(err)
		got = "error:" + code
	} else {
		got = fieldText(out.Records[0][0])
	}
	if got != base {
		return fmt.Errorf("after %q: %s = %q in a new call, want %q", sql, k.probe, got, base)
	}
	return nil
}
