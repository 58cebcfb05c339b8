package pgproxy

import "testing"

// BenchmarkClassify: the texts a busy client sends most, classified as
// the proxy does for every simple Query.
func BenchmarkClassify(b *testing.B) {
	for _, sql := range []string{
		"SELECT abalance FROM pgbench_accounts WHERE aid = 4242;",
		"UPDATE pgbench_accounts SET abalance = abalance + -1234 WHERE aid = 4242;",
		"INSERT INTO pgbench_history (tid, bid, aid, delta, mtime) VALUES (7, 1, 4242, -1234, CURRENT_TIMESTAMP);",
		"select * from orders where customer_id = 17 and status = 'open' order by created_at desc limit 20",
	} {
		b.Run(sql[:6], func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				_ = classify(sql)
			}
		})
	}
}

// BenchmarkClassifyQueryShape: a session classifying the same statement
// with another number each time, as pgbench -M simple sends it.
func BenchmarkClassifyQueryShape(b *testing.B) {
	texts := [][]byte{[]byte("SELECT abalance FROM pgbench_accounts WHERE aid = 4242;"),
		[]byte("SELECT abalance FROM pgbench_accounts WHERE aid = 17;")}
	s := &session{}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		_ = s.classifyQuery(texts[i&1])
		i++
	}
}
