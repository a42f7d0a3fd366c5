// Package supervise owns child processes for PID 1: one central reaper
// (SIGCHLD + wait4(-1, WNOHANG)) that reaps every child and orphan, and
// supervised services that are restarted with exponential backoff.
//
// Exit statuses reach a service only through the reaper; nothing in PID 1
// may call os/exec's Wait or os.Process.Wait on a child, because two waiters
// race and one of them loses the status. Services are started under the
// reaper's lock so that a child cannot be reaped before it is registered, and
// are signalled under the same lock so that a reaped pid is never signalled.
//
// Time goes through the Clock interface so tests can drive backoff. The
// package must not know what the services are (daemon, shell): callers pass a
// Spec.
package supervise
