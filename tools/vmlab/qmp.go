package vmlab

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"time"
)

// qmpMessage is any message QEMU sends on a QMP socket: the greeting, a
// command's return or error, or an asynchronous event.
type qmpMessage struct {
	QMP    json.RawMessage `json:"QMP"`
	Return json.RawMessage `json:"return"`
	Error  *struct {
		Class string `json:"class"`
		Desc  string `json:"desc"`
	} `json:"error"`
	Event string `json:"event"`
}

type qmpRequest struct {
	Execute   string `json:"execute"`
	Arguments any    `json:"arguments,omitempty"`
}

// qmpExecute connects to the QMP socket at path, negotiates capabilities and
// runs one command, returning its "return" value.
func qmpExecute(ctx context.Context, path, command string, args any) (json.RawMessage, error) {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "unix", path)
	if err != nil {
		return nil, fmt.Errorf("qmp: dial %s: %w", path, err)
	}
	defer conn.Close()
	deadline, ok := ctx.Deadline()
	if !ok {
		deadline = time.Now().Add(10 * time.Second)
	}
	if err := conn.SetDeadline(deadline); err != nil {
		return nil, fmt.Errorf("qmp: set deadline: %w", err)
	}
	return qmpSession(conn, command, args)
}

// qmpSession speaks QMP on an established connection.
func qmpSession(conn net.Conn, command string, args any) (json.RawMessage, error) {
	dec := json.NewDecoder(conn)
	enc := json.NewEncoder(conn)
	var greet qmpMessage
	if err := dec.Decode(&greet); err != nil {
		return nil, fmt.Errorf("qmp: read greeting: %w", err)
	}
	if greet.QMP == nil {
		return nil, errors.New("qmp: no greeting from server")
	}
	if _, err := qmpCall(dec, enc, qmpRequest{Execute: "qmp_capabilities"}); err != nil {
		return nil, err
	}
	return qmpCall(dec, enc, qmpRequest{Execute: command, Arguments: args})
}

func qmpCall(dec *json.Decoder, enc *json.Encoder, req qmpRequest) (json.RawMessage, error) {
	if err := enc.Encode(req); err != nil {
		return nil, fmt.Errorf("qmp: send %s: %w", req.Execute, err)
	}
	for {
		var m qmpMessage
		if err := dec.Decode(&m); err != nil {
			return nil, fmt.Errorf("qmp: read reply to %s: %w", req.Execute, err)
		}
		switch {
		case m.Error != nil:
			return nil, fmt.Errorf("qmp: %s: %s: %s", req.Execute, m.Error.Class, m.Error.Desc)
		case m.Return != nil:
			return m.Return, nil
		}
		// An event (or anything else): keep reading for our reply.
	}
}
