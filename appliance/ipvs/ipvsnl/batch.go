package ipvsnl

import (
	"context"
	"errors"
	"fmt"
)

// ErrNotSent marks a request Apply never gave to the kernel.
var ErrNotSent = errors.New("not sent")

// Apply writes reqs in order and returns one error per request (nil: applied).
//
// Requests are pipelined: up to Window of them go to the kernel in one sendmsg.
// The kernel handles the messages of one sendmsg one after the other and answers
// each failed one with an NLMSG_ERROR carrying its sequence number, so a failed
// request (say EEXIST) fails alone and the rest are still applied. Only the last
// request of a window asks for an acknowledgement (NLM_F_ACK): when it arrives, the
// errors of the window have all been read, and the requests without one succeeded.
// With AckEach every request asks for one and is matched to it by sequence number.
//
// A request that cannot be encoded is not sent. If the transport fails, the
// requests of the window without an answer get the transport error, all later
// requests are not sent, and the Conn is marked broken. A cancelled ctx stops Apply
// between windows. Errors of requests never sent wrap ErrNotSent (and the cause:
// the encoding error, ctx.Err(), the transport error).
func (c *Conn) Apply(ctx context.Context, reqs []Request) []error {
	return c.pipeline(ctx, len(reqs), func(i int, a *abuf) (Command, error) { return appendRequest(a, reqs[i]) })
}

// pipeline sends n requests in windows and returns one error per request (see
// Apply); next appends the attributes of request i and returns its command.
func (c *Conn) pipeline(ctx context.Context, n int, next func(i int, a *abuf) (Command, error)) []error {
	errs := make([]error, n)
	c.mu.Lock()
	defer c.mu.Unlock()
	fail := func(from int, err error) []error {
		for i := from; i < n; i++ {
			if errs[i] == nil {
				errs[i] = err
			}
		}
		return errs
	}
	if c.broken != nil {
		return fail(0, fmt.Errorf("%w: %w (after: %v)", ErrNotSent, ErrBroken, c.broken))
	}
	w := window{seqs: make([]uint32, 0, min(c.window, n)), idx: make([]int, 0, min(c.window, n))}
	for i := 0; i < n; {
		if err := ctx.Err(); err != nil {
			return fail(i, fmt.Errorf("%w: %w", ErrNotSent, err))
		}
		w.reset(c)
		for ; i < n && len(w.idx) < c.window; i++ {
			if err := w.add(c, i, next); err != nil {
				errs[i] = fmt.Errorf("%w: encode: %w", ErrNotSent, err)
			}
		}
		if len(w.idx) == 0 {
			continue
		}
		if err := c.flush(ctx, &w, errs); err != nil {
			c.broken = err
			return fail(i, fmt.Errorf("%w: %w", ErrNotSent, err))
		}
	}
	return errs
}

// window is a batch of requests being built in c.wbuf.
type window struct {
	seqs []uint32
	idx  []int // request index of each message
	last int   // offset of the last message in c.wbuf
}

func (w *window) reset(c *Conn) {
	c.wbuf, w.seqs, w.idx = c.wbuf[:0], w.seqs[:0], w.idx[:0]
}

// add appends request i, encoded in place by next; a request that cannot be
// encoded leaves the window as it was.
func (w *window) add(c *Conn, i int, next func(int, *abuf) (Command, error)) error {
	var flags uint16 = flagRequest
	if c.ackEach {
		flags |= flagAck
	}
	start := len(c.wbuf)
	a := abuf(appendMessage(c.wbuf, c.family, flags, 0, 0, nil))
	cmd, err := next(i, &a)
	if err != nil {
		c.wbuf = c.wbuf[:start]
		return err
	}
	seq := c.nextSeq()
	ne.PutUint32(a[start:], uint32(len(a)-start)) // nlmsg_len
	ne.PutUint32(a[start+8:], seq)
	a[start+nlmsgHdrLen] = uint8(cmd)
	c.wbuf = a
	w.last = start
	w.seqs = append(w.seqs, seq)
	w.idx = append(w.idx, i)
	return nil
}

// flush sends the window and reads the answers into errs. The returned error is a
// transport failure; the requests of the window without an answer then have it.
func (c *Conn) flush(ctx context.Context, w *window, errs []error) error {
	// The last message asks for an acknowledgement: the window's barrier.
	f := ne.Uint16(c.wbuf[w.last+6:])
	ne.PutUint16(c.wbuf[w.last+6:], f|flagAck)
	c.arm(ctx)
	if err := c.w.send(c.wbuf); err != nil {
		for _, i := range w.idx {
			errs[i] = fmt.Errorf("%w: send: %w", ErrNotSent, err)
		}
		return err
	}
	first, last := w.seqs[0], w.seqs[len(w.seqs)-1]
	answered := make([]bool, len(w.seqs)) // sequence numbers of a window are consecutive
	left := len(w.seqs)
	for left > 0 {
		b, err := c.w.recv()
		if err == nil {
			c.msgs, err = parseDatagram(b, c.msgs)
		}
		if err != nil {
			for k, i := range w.idx {
				if !answered[k] {
					errs[i] = fmt.Errorf("no acknowledgement: %w", err)
				}
			}
			return err
		}
		for _, m := range c.msgs {
			if m.typ != nlmsgError || m.seq-first > last-first {
				continue // data replies and strangers
			}
			k := int(m.seq - first)
			if !answered[k] {
				answered[k] = true
				errs[w.idx[k]] = errorOf(m)
				left--
			}
			if m.seq == last && !c.ackEach {
				left = 0 // the barrier: the rest was applied silently
			}
		}
	}
	return nil
}
