// Package events owns the daemon's event hub: numbered events (config commits,
// confirmations, state changes) kept in a small ring for Last-Event-ID replay and fanned
// out to subscribers (the SSE endpoint). A subscriber that falls behind is dropped, not
// waited for: it reconnects and replays.
//
// It must not know where events come from or how they are sent over HTTP.
package events
