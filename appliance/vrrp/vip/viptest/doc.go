// Package viptest has in-memory fakes of vip.Kernel and vip.Announcer for
// tests of the address worker and its users.
package viptest
