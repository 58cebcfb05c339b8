package mysqlproxy

import (
	"fmt"
	"testing"
	"time"

	"github.com/sqlgate/sqlgate/internal/mysqlwire"
	"github.com/sqlgate/sqlgate/internal/testdb"
)

// A client that sends its next command while the previous one runs
// (connectors that pipeline, such as MariaDB's) gets both replies without
// delay. The second command is in the client socket before the first
// reply goes out, and nothing more will arrive to announce it: after
// writing the first reply the proxy must read, not wait for the socket to
// become readable.
func TestSession_clientSendsBeforeReply(t *testing.T) {
	tp := startProxy(t, proxyOpts{})
	r := dialRaw(t, tp, tp.addr, false, 0)
	for i := range 3 {
		slow := fmt.Sprintf("select sleep(0.2), %d", i)
		if err := r.pc.Command(mysqlwire.QueryCommand(slow)); err != nil {
			t.Fatal(err)
		}
		testdb.Eventually(t, 10*time.Second, 10*time.Millisecond, "the proxy running "+slow, func() bool {
			return tp.runningSession(slow) != 0 // it has read the command
		})
		if err := r.pc.Command(mysqlwire.QueryCommand(fmt.Sprintf("select 'next %d'", i))); err != nil {
			t.Fatal(err)
		}
		if err := r.cl.Conn().SetReadDeadline(time.Now().Add(1500 * time.Millisecond)); err != nil {
			t.Fatal(err)
		}
		res, err := r.read(false)
		if err := r.wantRows(res, err, fmt.Sprint([]string{"0", fmt.Sprint(i)})); err != nil {
			t.Fatalf("round %d, first reply: %v", i, err)
		}
		r.pc.StrictSeq = false // the second reply's ids restart at 1, as its command went out early
		res, err = r.read(false)
		r.pc.StrictSeq = true
		if err := r.wantRows(res, err, fmt.Sprint([]string{fmt.Sprintf("next %d", i)})); err != nil {
			t.Fatalf("round %d, second reply: %v", i, err)
		}
	}
	_ = r.cl.Conn().SetReadDeadline(time.Time{})
}
