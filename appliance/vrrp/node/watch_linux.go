package node

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"time"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// NetlinkLinks is the Linux LinkSource: rtnetlink link and address
// subscriptions in the current network namespace, resubscribing (with a
// fresh dump) after an error such as a receive buffer overflow.
type NetlinkLinks struct {
	Log *slog.Logger
}

// Watch implements LinkSource.
func (n NetlinkLinks) Watch(ctx context.Context, update func(Facts)) error {
	log := n.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	for {
		err := watchOnce(ctx, update)
		if ctx.Err() != nil {
			return nil
		}
		log.Warn("vrrp: netlink subscription lost, resubscribing", "err", err)
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(200 * time.Millisecond):
		}
	}
}

func watchOnce(ctx context.Context, update func(Facts)) error {
	done := make(chan struct{})
	defer close(done)
	errCh := make(chan error, 2)
	cb := func(err error) {
		select {
		case errCh <- err:
		default:
		}
	}
	lch := make(chan netlink.LinkUpdate, 512)
	ach := make(chan netlink.AddrUpdate, 2048)
	// Subscribe first, then dump: events queued meanwhile are full states
	// and are applied after the dump, so the table converges.
	if err := netlink.LinkSubscribeWithOptions(lch, done, netlink.LinkSubscribeOptions{ErrorCallback: cb}); err != nil {
		return fmt.Errorf("link subscribe: %w", err)
	}
	if err := netlink.AddrSubscribeWithOptions(ach, done, netlink.AddrSubscribeOptions{ErrorCallback: cb}); err != nil {
		return fmt.Errorf("address subscribe: %w", err)
	}
	t := newLinkTable()
	links, err := netlink.LinkList()
	if err != nil {
		return fmt.Errorf("link list: %w", err)
	}
	for _, l := range links {
		t.setLink(linkState(l), false)
	}
	addrs, err := netlink.AddrList(nil, netlink.FAMILY_ALL)
	if err != nil {
		return fmt.Errorf("address list: %w", err)
	}
	for _, a := range addrs {
		if p, ok := prefixOf(a.IPNet.IP, a.IPNet.Mask); ok {
			t.setAddr(a.LinkIndex, addrState(p, a.Flags), false)
		}
	}
	last := t.facts()
	update(last)
	for {
		select {
		case <-ctx.Done():
			return nil
		case err := <-errCh:
			return err
		case u, ok := <-lch:
			if !ok {
				return errors.New("link subscription closed")
			}
			t.setLink(linkState(u.Link), u.Header.Type == unix.RTM_DELLINK)
		case u, ok := <-ach:
			if !ok {
				return errors.New("address subscription closed")
			}
			if p, ok := prefixOf(u.LinkAddress.IP, u.LinkAddress.Mask); ok {
				t.setAddr(u.LinkIndex, addrState(p, u.Flags), !u.NewAddr)
			}
		}
		// Fold everything already queued into one update.
	drain:
		for {
			select {
			case u, ok := <-lch:
				if !ok {
					return errors.New("link subscription closed")
				}
				t.setLink(linkState(u.Link), u.Header.Type == unix.RTM_DELLINK)
			case u, ok := <-ach:
				if !ok {
					return errors.New("address subscription closed")
				}
				if p, ok := prefixOf(u.LinkAddress.IP, u.LinkAddress.Mask); ok {
					t.setAddr(u.LinkIndex, addrState(p, u.Flags), !u.NewAddr)
				}
			default:
				break drain
			}
		}
		if f := t.facts(); !f.equal(last) {
			last = f
			update(f)
		}
	}
}

func linkState(l netlink.Link) LinkState {
	a := l.Attrs()
	return LinkState{Name: a.Name, Index: a.Index, MAC: a.HardwareAddr,
		Up: a.RawFlags&unix.IFF_UP != 0 && a.RawFlags&unix.IFF_RUNNING != 0}
}

func addrState(p netip.Prefix, flags int) AddrState {
	return AddrState{Prefix: p, Secondary: flags&unix.IFA_F_SECONDARY != 0,
		Tentative: flags&(unix.IFA_F_TENTATIVE|unix.IFA_F_DADFAILED) != 0}
}
