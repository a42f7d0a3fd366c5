// Package netcfgtest provides in-memory fakes of netcfg.Host and netcfg.UTS that
// record their writes, for tests of netcfg and its users.
//
// It must not be imported by production code.
package netcfgtest
