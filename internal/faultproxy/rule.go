package faultproxy

import (
	"fmt"
	"net/http"
	"slices"
	"time"
)

// A Rule applies its Action to the requests it matches.
type Rule struct {
	// Match selects the requests the rule affects; nil matches every
	// request. It runs before the proxy reads the body, may run
	// concurrently for different requests, and must not read the body.
	Match func(r *http.Request) bool
	// Times is how many matching requests the rule affects before it
	// steps aside; 0 (or less) means all of them.
	Times int
	// Action is what happens to an affected request. The zero Action
	// (Forward) forwards it unchanged, which lets a rule added first shield
	// the first Times requests from the rules after it.
	Action Action
}

type actionKind int

const (
	kindForward actionKind = iota
	kindStatus
	kindReset
	kindCut
	kindDelay
	kindHang
)

// An Action is what a rule does to a request it claims. The zero value
// forwards the request unchanged; the functions below make the others.
type Action struct {
	kind   actionKind
	code   int           // kindStatus
	s3Code string        // kindStatus
	after  int64         // kindCut
	delay  time.Duration // kindDelay
}

// Forward forwards the request unchanged (the zero Action).
func Forward() Action { return Action{} }

// Status answers with HTTP status code and an S3 XML error body whose Code
// is s3Code, such as Status(503, "SlowDown") or Status(500,
// "InternalError"), without forwarding the request. The request body is
// read and dropped first, so the client gets the answer rather than a
// broken pipe. It panics if code is not a valid HTTP status.
func Status(code int, s3Code string) Action {
	if code < 100 || code > 599 {
		panic(fmt.Sprintf("faultproxy: invalid HTTP status %d", code))
	}
	return Action{kind: kindStatus, code: code, s3Code: s3Code}
}

// ResetConnection answers nothing: it resets the client's TCP connection
// (RST, not FIN). A request with a body is reset in the middle of it,
// after the proxy has read half of it (at least 4 KiB when there is that
// much, never all of it), so the client is still sending; nothing is
// forwarded.
//
// Go's http.Transport transparently resends an idempotent request (GET,
// HEAD) that fails this way on a reused connection, so a rule resetting
// GETs may need Times > 1 to be seen by the caller.
func ResetConnection() Action { return Action{kind: kindReset} }

// CutResponseBody forwards the request, sends the client the response
// headers and the first after bytes of the body, then resets the
// connection: a body that breaks mid-stream. It panics if after < 0.
func CutResponseBody(after int64) Action {
	if after < 0 {
		panic(fmt.Sprintf("faultproxy: CutResponseBody(%d): negative length", after))
	}
	return Action{kind: kindCut, after: after}
}

// Delay waits d and then forwards the request. A client seen to give up
// during the wait (or a proxy closing) ends it: the connection is closed
// unanswered and nothing is forwarded. A client still sending a body is
// seen only once the forwarded request fails to read the rest of it.
func Delay(d time.Duration) Action { return Action{kind: kindDelay, delay: max(d, 0)} }

// Hang never answers: it reads and drops the request body, then holds the
// request until the client gives up or the proxy closes, and closes the
// connection. Nothing is forwarded.
func Hang() Action { return Action{kind: kindHang} }

// String describes the action as RequestRecord.Fault shows it.
func (a Action) String() string {
	switch a.kind {
	case kindStatus:
		return fmt.Sprintf("status %d %s", a.code, a.s3Code)
	case kindReset:
		return "reset connection"
	case kindCut:
		return fmt.Sprintf("cut response body after %d bytes", a.after)
	case kindDelay:
		return "delay " + a.delay.String()
	case kindHang:
		return "hang"
	}
	return "forward"
}

// ruleState is an added rule and how many requests it has claimed.
type ruleState struct {
	rule    Rule
	used    int
	removed bool
}

// Add appends rule to the rules, after those already added, and returns a
// function that removes it again (calling it more than once is harmless).
// Requests already claimed by the rule keep its action.
func (p *Proxy) Add(rule Rule) (remove func()) {
	rs := &ruleState{rule: rule}
	p.mu.Lock()
	p.rules = append(p.rules, rs)
	p.mu.Unlock()
	return func() {
		p.mu.Lock()
		defer p.mu.Unlock()
		rs.removed = true
		p.rules = slices.DeleteFunc(p.rules, func(x *ruleState) bool { return x == rs })
	}
}

// Reset removes every rule and forgets every RequestRecord, for a test
// that moves on to its next phase with the same proxy.
func (p *Proxy) Reset() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, rs := range p.rules {
		rs.removed = true
	}
	p.rules = nil
	p.records = nil
}

// claim returns the action of the first rule that matches r and has budget
// left, and counts r against that rule. Match runs without the lock, so a
// slow or re-entrant matcher cannot stall or deadlock the proxy; the budget
// is checked again under the lock, so Times is exact under concurrency.
func (p *Proxy) claim(r *http.Request) Action {
	p.mu.Lock()
	rules := slices.Clone(p.rules)
	p.mu.Unlock()
	for _, rs := range rules {
		if rs.rule.Match != nil && !rs.rule.Match(r) {
			continue
		}
		p.mu.Lock()
		ok := !rs.removed && (rs.rule.Times <= 0 || rs.used < rs.rule.Times)
		if ok {
			rs.used++
		}
		p.mu.Unlock()
		if ok {
			return rs.rule.Action
		}
	}
	return Action{}
}
