package mysqlwire

// Session state tracking (CLIENT_SESSION_TRACK): the session_state_info of
// an OK packet. https://mariadb.com/kb/en/ok_packet/ and MySQL WL#6885.

import "strings"

// Session tracker types in session_state_info.
const (
	TrackSystemVariables   = 0
	TrackSchema            = 1
	TrackStateChange       = 2
	TrackGTIDs             = 3
	TrackTxCharacteristics = 4
	TrackTxState           = 5
)

// StateChange is what one OK packet's session_state_info reported.
type StateChange struct {
	Vars       [][2]string // system variables: lower-case name, value, in order
	Schema     string
	HasSchema  bool
	Changed    bool // the STATE_CHANGE tracker said "1"
	TxChars    string
	HasTxChars bool
	TxState    string
}

// ParseSessionState decodes session_state_info. Unknown tracker types are
// skipped.
func ParseSessionState(p []byte) (StateChange, error) {
	var sc StateChange
	for len(p) > 0 {
		typ := p[0]
		data, rest, ok := ReadLenencString(p[1:])
		if !ok {
			return sc, ErrMalformed
		}
		p = rest
		if err := sc.add(typ, data); err != nil {
			return sc, err
		}
	}
	return sc, nil
}

func (sc *StateChange) add(typ byte, data []byte) error {
	switch typ {
	case TrackSystemVariables:
		name, r, ok := ReadLenencString(data)
		if !ok {
			return ErrMalformed
		}
		val, _, ok := ReadLenencString(r)
		if !ok {
			return ErrMalformed
		}
		sc.Vars = append(sc.Vars, [2]string{strings.ToLower(string(name)), string(val)})
	case TrackSchema:
		name, _, ok := ReadLenencString(data)
		if !ok {
			return ErrMalformed
		}
		sc.Schema, sc.HasSchema = string(name), true
	case TrackStateChange: // the value is not length-prefixed again
		sc.Changed = string(data) == "1"
	case TrackTxCharacteristics:
		v, _, ok := ReadLenencString(data)
		if !ok {
			return ErrMalformed
		}
		sc.TxChars, sc.HasTxChars = string(v), true
	case TrackTxState:
		v, _, ok := ReadLenencString(data)
		if !ok {
			return ErrMalformed
		}
		sc.TxState = string(v)
	}
	return nil
}

// AppendSessionState encodes sc as session_state_info (the inverse of
// ParseSessionState for the trackers it keeps).
func AppendSessionState(b []byte, sc StateChange) []byte {
	for _, v := range sc.Vars {
		var d []byte
		d = AppendLenencString(d, []byte(v[0]))
		d = AppendLenencString(d, []byte(v[1]))
		b = AppendLenencString(append(b, TrackSystemVariables), d)
	}
	if sc.HasSchema {
		b = AppendLenencString(append(b, TrackSchema), AppendLenencString(nil, []byte(sc.Schema)))
	}
	if sc.Changed {
		b = AppendLenencString(append(b, TrackStateChange), []byte("1"))
	}
	if sc.HasTxChars {
		b = AppendLenencString(append(b, TrackTxCharacteristics), AppendLenencString(nil, []byte(sc.TxChars)))
	}
	if sc.TxState != "" {
		b = AppendLenencString(append(b, TrackTxState), AppendLenencString(nil, []byte(sc.TxState)))
	}
	return b
}
