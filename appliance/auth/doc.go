// Package auth owns authentication for the HTTPS API: roles and what they may do,
// password hashing (argon2id PHC strings; bcrypt hashes are accepted for
// verification), API tokens (only their SHA-256 hashes are kept), in-memory login
// sessions, HTTP Basic / Bearer credential checking, login rate limiting (token buckets
// per source address and per user, with an injected clock) and the bootstrap admin
// used while the configuration defines no users.
//
// It must not read the store or the config model itself: users come from a function
// the daemon provides, and it never logs or keeps a plaintext secret except the
// bootstrap password file it creates on purpose.
package auth
