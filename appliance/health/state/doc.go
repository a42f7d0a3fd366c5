// Package state owns the health state of one probe: rise/fall counting, retries of
// a failing attempt, the up/down verdict with its reason, time in state, a short
// transition history and a flap count. It is pure: time comes in as arguments.
//
// It must not schedule, run checks or decide weights (that is the scheduler's and the
// service package's job).
package state
