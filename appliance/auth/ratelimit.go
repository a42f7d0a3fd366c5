package auth

import (
	"math"
	"sync"
	"time"
)

// Limiter is a set of token buckets, one per key (a source address or a user name).
// Each bucket holds at most Burst tokens and gains one every Every. It is safe for
// concurrent use; the clock is injected.
type Limiter struct {
	burst float64
	every time.Duration
	now   func() time.Time
	max   int // bound on remembered keys

	mu sync.Mutex
	m  map[string]*bucket
}

type bucket struct {
	tokens float64
	at     time.Time
}

// NewLimiter returns a limiter; now nil means time.Now.
func NewLimiter(burst int, every time.Duration, now func() time.Time) *Limiter {
	if now == nil {
		now = time.Now
	}
	return &Limiter{burst: float64(burst), every: every, now: now, max: 4096, m: map[string]*bucket{}}
}

// refill brings b up to date and returns it.
func (l *Limiter) refill(b *bucket, now time.Time) {
	if el := now.Sub(b.at); el > 0 {
		b.tokens = math.Min(l.burst, b.tokens+float64(el)/float64(l.every))
		b.at = now
	}
}

// Take consumes one token of key's bucket. When the bucket is empty it consumes
// nothing and returns how long until a token is available.
func (l *Limiter) Take(key string) (ok bool, retryAfter time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	b := l.m[key]
	if b == nil {
		l.prune(now)
		b = &bucket{tokens: l.burst, at: now}
		l.m[key] = b
	}
	l.refill(b, now)
	if b.tokens >= 1 {
		b.tokens--
		return true, 0
	}
	return false, time.Duration((1 - b.tokens) * float64(l.every))
}

// Refund gives back a token taken by Take (the attempt succeeded).
func (l *Limiter) Refund(key string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if b := l.m[key]; b != nil {
		l.refill(b, l.now())
		b.tokens = math.Min(l.burst, b.tokens+1)
	}
}

// prune forgets full buckets (they behave like absent ones) when the map is at its
// bound; if that is not enough it forgets arbitrary buckets, so memory stays bounded
// under a flood of distinct keys (the other limiter still applies).
func (l *Limiter) prune(now time.Time) {
	if len(l.m) < l.max {
		return
	}
	for k, b := range l.m {
		l.refill(b, now)
		if b.tokens >= l.burst {
			delete(l.m, k)
		}
	}
	for k := range l.m {
		if len(l.m) < l.max {
			break
		}
		delete(l.m, k)
	}
}

// Len is the number of remembered keys.
func (l *Limiter) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.m)
}
