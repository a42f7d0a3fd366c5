// Package health owns the vocabulary of lvsbox's health checking: the check
// specification (Spec) with its defaults, validation and dedup identity (Key), the
// outcome of one check (Result), and the Clock and Rand interfaces every part of the
// health checker is driven by.
//
// The work is split into sub-packages: checker (the probes themselves), state
// (rise/fall/retries per probe), scheduler (dedup, timer heap, worker pool), service
// (effective weights, sorry server, quorum) and metrics (Prometheus). This package
// must not do I/O, know the config document format or program IPVS.
package health
