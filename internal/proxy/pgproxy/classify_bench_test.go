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
// with other values each time, as pgbench -M simple and drivers that
// interpolate parameters on the client send it.
func BenchmarkClassifyQueryShape(b *testing.B) {
	for _, pair := range [][2]string{
		{"SELECT abalance FROM pgbench_accounts WHERE aid = 4242;", "SELECT abalance FROM pgbench_accounts WHERE aid = 17;"},
		{"INSERT INTO pgbench_history (tid, bid, aid, delta, mtime) VALUES (7, 1, 4242, -1234, CURRENT_TIMESTAMP);",
			"INSERT INTO pgbench_history (tid, bid, aid, delta, mtime) VALUES (3, 1, 99, -4321, CURRENT_TIMESTAMP);"},
		{"select * from orders where customer_id = 17 and status = 'open' order by created_at desc limit 20",
			"select * from orders where customer_id = 4242 and status = 'shipped' order by created_at desc limit 50"},
	} {
		b.Run(pair[0][:6], func(b *testing.B) {
			if c := classify(pair[0]); !c.shapeCacheable() {
				b.Fatalf("%q classifies as %+v: not a plain statement", pair[0], c)
			}
			texts := [][]byte{[]byte(pair[0]), []byte(pair[1])}
			s := &session{}
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				_ = s.classifyQuery(texts[i&1])
				i++
			}
		})
	}
}
