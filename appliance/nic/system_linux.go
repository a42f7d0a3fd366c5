package nic

import (
	"errors"
	"fmt"
	"net"
	"runtime"

	"github.com/safchain/ethtool"
	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

// System is the Kernel of one network namespace: ethtool ioctls on a socket opened
// in that namespace (SIOCETHTOOL resolves names in the socket's namespace) and a
// netlink handle bound to it.
type System struct {
	eth *ethtool.Ethtool
	nl  *netlink.Handle
}

var _ Kernel = (*System)(nil)

// Open returns a System for the calling process's network namespace.
func Open() (*System, error) {
	eth, err := ethtool.NewEthtool()
	if err != nil {
		return nil, fmt.Errorf("nic: open ethtool socket: %w", err)
	}
	nl, err := netlink.NewHandle(unix.NETLINK_ROUTE) // only rtnetlink: the image has no xfrm
	if err != nil {
		eth.Close()
		return nil, fmt.Errorf("nic: open netlink: %w", err)
	}
	return &System{eth: eth, nl: nl}, nil
}

// OpenIn returns a System for the namespace ns. The ethtool socket is created by a
// thread that has joined ns, so its ioctls act there whatever thread calls them.
func OpenIn(ns netns.NsHandle) (*System, error) {
	eth, err := ethtoolIn(ns)
	if err != nil {
		return nil, err
	}
	nl, err := netlink.NewHandleAt(ns, unix.NETLINK_ROUTE)
	if err != nil {
		eth.Close()
		return nil, fmt.Errorf("nic: open netlink in namespace: %w", err)
	}
	return &System{eth: eth, nl: nl}, nil
}

func ethtoolIn(ns netns.NsHandle) (*ethtool.Ethtool, error) {
	runtime.LockOSThread()
	origin, err := netns.Get()
	if err != nil {
		runtime.UnlockOSThread()
		return nil, fmt.Errorf("nic: current namespace: %w", err)
	}
	defer origin.Close()
	if err := netns.Set(ns); err != nil {
		runtime.UnlockOSThread()
		return nil, fmt.Errorf("nic: enter namespace: %w", err)
	}
	eth, ethErr := ethtool.NewEthtool()
	if err := netns.Set(origin); err != nil {
		// The thread stays locked and dies with its goroutine: it is in the wrong
		// namespace and must not run other goroutines.
		if eth != nil {
			eth.Close()
		}
		return nil, fmt.Errorf("nic: return to namespace: %w", err)
	}
	runtime.UnlockOSThread()
	if ethErr != nil {
		return nil, fmt.Errorf("nic: open ethtool socket in namespace: %w", ethErr)
	}
	return eth, nil
}

// Close releases the ethtool socket and the netlink handle.
func (s *System) Close() {
	s.eth.Close()
	s.nl.Close()
}

func (s *System) link(name string) (netlink.Link, error) {
	l, err := s.nl.LinkByName(name)
	if err != nil {
		var nf netlink.LinkNotFoundError
		if errors.As(err, &nf) {
			return nil, fmt.Errorf("%w: %s", ErrNoLink, name)
		}
		return nil, fmt.Errorf("look up link: %w", err)
	}
	return l, nil
}

// Link implements Kernel.
func (s *System) Link(name string) (LinkState, error) {
	l, err := s.link(name)
	if err != nil {
		return LinkState{}, err
	}
	a := l.Attrs()
	return LinkState{MTU: a.MTU, AdminUp: a.Flags&net.FlagUp != 0, OperState: a.OperState.String()}, nil
}

// SetMTU implements Kernel.
func (s *System) SetMTU(name string, mtu int) error {
	l, err := s.link(name)
	if err != nil {
		return err
	}
	return s.nl.LinkSetMTU(l, mtu)
}

// SetUp implements Kernel.
func (s *System) SetUp(name string) error {
	l, err := s.link(name)
	if err != nil {
		return err
	}
	return s.nl.LinkSetUp(l)
}

// Features implements Kernel. A feature is fixed when it is not among the NIC's
// changeable features or is marked never-changed (ethtool's "[fixed]").
func (s *System) Features(name string) (map[string]FeatureState, error) {
	st, err := s.eth.FeaturesWithState(name)
	if err != nil {
		return nil, fmt.Errorf("ethtool get features: %w", err)
	}
	out := make(map[string]FeatureState, len(st))
	for k, v := range st {
		out[k] = FeatureState{Active: v.Active, Fixed: !v.Available || v.NeverChanged}
	}
	return out, nil
}

// SetFeatures implements Kernel.
func (s *System) SetFeatures(name string, want map[string]bool) error {
	if err := s.eth.Change(name, want); err != nil {
		return fmt.Errorf("ethtool set features: %w", err)
	}
	return nil
}
