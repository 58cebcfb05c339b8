package lease

import (
	"encoding/json"
	"fmt"
	"slices"
	"sort"
)

// Namespace is the state-store namespace of the lease records: one key
// per budget (Key: a cluster, or an instance of a cluster with
// instances), whose value holds every node's lease on that budget.
const Namespace = "pool.leases"

// record is the stored value of one cluster's key.
type record struct {
	Nodes map[string]*entry `json:"nodes"`
}

// entry is one node's lease on a cluster.
type entry struct {
	// Grant is the number of connections the node may hold. The sum over
	// the live entries never exceeds the cluster's budget: a node raises
	// its own grant only up to what the others leave free, and lowers it
	// only as far as the connections it still holds.
	Grant int `json:"grant"`
	// Demand is what the node's users asked for at its last heartbeat:
	// connections held plus requests waiting for one.
	Demand int `json:"demand"`
	// Beat counts the node's writes; a beat that stops changing for a
	// lease TTL, measured on the observer's clock, means the node is gone.
	Beat uint64 `json:"beat"`
	// Max is the node's configured max_connections for the cluster; the
	// smallest among the nodes is the budget they share.
	Max int `json:"max"`
}

func decodeRecord(b []byte) (*record, error) {
	r := &record{Nodes: map[string]*entry{}}
	if b == nil {
		return r, nil
	}
	if err := json.Unmarshal(b, r); err != nil {
		return nil, fmt.Errorf("decode lease record: %w", err)
	}
	if r.Nodes == nil {
		r.Nodes = map[string]*entry{}
	}
	for id, e := range r.Nodes {
		if e == nil {
			delete(r.Nodes, id)
		}
	}
	return r, nil
}

// ids returns the node ids in a fixed (sorted) order.
func (r *record) ids() []string {
	ids := make([]string, 0, len(r.Nodes))
	for id := range r.Nodes {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids
}

// budget is the smallest configured max_connections among the nodes.
func (r *record) budget() int {
	n := -1
	for _, e := range r.Nodes {
		if n < 0 || e.Max < n {
			n = e.Max
		}
	}
	return max(n, 0)
}

// grantedExcept sums the grants of every node but id.
func (r *record) grantedExcept(id string) int {
	n := 0
	for other, e := range r.Nodes {
		if other != id {
			n += e.Grant
		}
	}
	return n
}

// Split divides total connections among nodes by their demands, in the
// order given: max-min fair (no node gets more than it asks while another
// gets less than its equal part; what a node does not ask for goes to
// the others), and what nobody asks for is spread equally, so an idle
// node keeps room for a burst. The result sums to total (0 for no nodes).
func Split(total int, demands []int) []int {
	n := len(demands)
	out := make([]int, n)
	if n == 0 || total <= 0 {
		return out
	}
	order := make([]int, n)
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return max(demands[a], 0) - max(demands[b], 0) })
	left := total
	for k, i := range order {
		g := min(max(demands[i], 0), left/(n-k))
		out[i] = g
		left -= g
	}
	for i := range out {
		out[i] += left / n
		if i < left%n {
			out[i]++
		}
	}
	return out
}
