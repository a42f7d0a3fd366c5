package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"time"

	"github.com/lvsbox/lvsbox/appliance/auth"
	"github.com/lvsbox/lvsbox/appliance/config"
)

// Problem is one detail of an error: a field path (validation notation) and a sentence.
type Problem struct {
	Path    string `json:"path"`
	Message string `json:"message"`
}

// ErrorBody is the body of every error response.
type ErrorBody struct {
	Error   string    `json:"error"`
	Details []Problem `json:"details"`
}

// httpError is an error with a status code and details.
type httpError struct {
	code       int
	msg        string
	details    []Problem
	retryAfter time.Duration
}

func (e *httpError) Error() string { return e.msg }

func newError(code int, format string, args ...any) *httpError {
	return &httpError{code: code, msg: fmt.Sprintf(format, args...)}
}

// problems converts validation errors.
func problems(errs config.Errors) []Problem {
	out := make([]Problem, 0, len(errs))
	for _, e := range errs {
		out = append(out, Problem{Path: e.Path, Message: e.Msg})
	}
	return out
}

// classify maps an error from the store, config decoding or auth to a response.
func classify(err error) *httpError {
	var he *httpError
	var verrs config.Errors
	var rl *auth.RateLimitedError
	switch {
	case errors.As(err, &he):
		return he
	case errors.As(err, &verrs):
		return &httpError{code: http.StatusUnprocessableEntity, msg: "invalid configuration", details: problems(verrs)}
	case errors.Is(err, ErrConflict), errors.Is(err, ErrPendingConfirm), errors.Is(err, ErrNotPending):
		return &httpError{code: http.StatusConflict, msg: err.Error()}
	case errors.Is(err, ErrNotFound):
		return &httpError{code: http.StatusNotFound, msg: err.Error()}
	case errors.As(err, &rl):
		return &httpError{code: http.StatusTooManyRequests, msg: err.Error(), retryAfter: rl.RetryAfter}
	case errors.Is(err, auth.ErrNoCredentials), errors.Is(err, auth.ErrBadCredentials):
		return &httpError{code: http.StatusUnauthorized, msg: err.Error()}
	}
	return &httpError{code: http.StatusInternalServerError, msg: err.Error()}
}

func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	he := classify(err)
	if he.code >= 500 {
		s.log().Error("api: request failed", "method", r.Method, "path", r.URL.Path, "error", err)
	}
	if he.code == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Basic realm="lvsbox", charset="UTF-8"`)
	}
	if he.retryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(he.retryAfter.Seconds()))))
	}
	details := he.details
	if details == nil {
		details = []Problem{}
	}
	writeJSON(w, he.code, ErrorBody{Error: he.msg, Details: details})
}

// writeJSON writes v indented with the given status.
func writeJSON(w http.ResponseWriter, code int, v any) {
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		code = http.StatusInternalServerError
		data, _ = json.Marshal(ErrorBody{Error: "encode response: " + err.Error(), Details: []Problem{}})
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	w.Write(append(data, '\n'))
}
