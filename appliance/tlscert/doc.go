// Package tlscert owns the HTTPS listener's certificate: a self-signed ECDSA P-256
// certificate generated on first start into DATA/tls/{cert.pem,key.pem}, and a loader
// that serves whatever pair is there, reloading it when the operator drops in a
// replacement (no restart needed; a broken replacement is reported and the previous
// certificate stays in use).
//
// It must not listen on sockets or decide which host names the box has: callers pass
// them in.
package tlscert
