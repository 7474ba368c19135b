package domain

import (
	"errors"
	"fmt"
	"strings"
)

// Sentinel errors, matched with errors.Is. Field-level problems come as
// ValidationErrors whose elements may wrap one of these sentinels, so a
// caller can answer both "which rule?" and "which field?".
var (
	// ErrValidation matches every *ValidationError: the request is malformed.
	ErrValidation = errors.New("invalid request")
	// ErrNotFound: the aggregate a command is addressed to does not exist.
	ErrNotFound = errors.New("not found")
	// ErrAlreadyExists: a registration names an aggregate that exists.
	ErrAlreadyExists = errors.New("already exists")
	// ErrUnknownReference: a field names another aggregate that does not
	// exist (a roadmap's program, a territory's parent, ...). It comes inside
	// a *ValidationError, unlike ErrNotFound, because the request is at fault,
	// not its address.
	ErrUnknownReference = errors.New("refers to something that does not exist")
	// ErrCancelled: the indicator is cancelled; only reading is allowed.
	ErrCancelled = errors.New("indicator is cancelled")
	// ErrReportNotFound: a correction points at no report of the indicator.
	ErrReportNotFound = errors.New("no such report")
	// ErrAlreadyCorrected: a correction points at a report that another
	// correction already superseded; correct the latest one instead.
	ErrAlreadyCorrected = errors.New("report already corrected")
	// ErrReasonRequired: the change must say why.
	ErrReasonRequired = errors.New("a reason is required")
	// ErrTargetEqualsBaseline: a numeric indicator whose target is its
	// baseline measures nothing.
	ErrTargetEqualsBaseline = errors.New("target equals baseline")
	// ErrRoadmapClosed: a closed roadmap accepts no changes and no new
	// indicators.
	ErrRoadmapClosed = errors.New("roadmap is closed")
	// ErrInvalidTransition: the lifecycle does not allow this move from the
	// current state (activating an active roadmap, setting the status an
	// indicator already has, ...).
	ErrInvalidTransition = errors.New("invalid transition")
	// ErrAlreadyAssigned: the person is already responsible.
	ErrAlreadyAssigned = errors.New("already assigned")
	// ErrNotAssigned: the person is not responsible, so cannot be unassigned.
	ErrNotAssigned = errors.New("not assigned")
	// ErrUnknownEventType: the codec does not know a stored event type.
	ErrUnknownEventType = errors.New("unknown event type")
	// ErrInvalidHistory: a list of events cannot be folded (an event before
	// its aggregate was created, a second creation, an event of another
	// aggregate). It means corrupt data or a wrong filter, never bad input.
	ErrInvalidHistory = errors.New("invalid history")
)

// ValidationError is one problem with one field of a request. Field is the
// snake_case path of the field as the API names it ("title.kk",
// "evidence.url"); empty means the request as a whole. Err, when set, is the
// sentinel naming the rule that failed.
type ValidationError struct {
	Field   string
	Problem string
	Err     error
}

func (e *ValidationError) Error() string {
	if e.Field == "" {
		return e.Problem
	}
	return e.Field + ": " + e.Problem
}

// Is makes every ValidationError match ErrValidation.
func (e *ValidationError) Is(target error) bool { return target == ErrValidation }

func (e *ValidationError) Unwrap() error { return e.Err }

// ValidationErrors is every problem found with a request, so that a client
// can fix them all at once. Domain methods return it (never an empty one).
type ValidationErrors []*ValidationError

func (es ValidationErrors) Error() string {
	msgs := make([]string, len(es))
	for i, e := range es {
		msgs[i] = e.Error()
	}
	return strings.Join(msgs, "; ")
}

// Unwrap lets errors.Is and errors.As see each field error.
func (es ValidationErrors) Unwrap() []error {
	errs := make([]error, len(es))
	for i, e := range es {
		errs[i] = e
	}
	return errs
}

// FieldErrors returns every *ValidationError in err's tree, in order, for a
// field-level error response. It returns nil when there is none.
func FieldErrors(err error) []*ValidationError {
	var out []*ValidationError
	var walk func(error)
	walk = func(err error) {
		switch e := err.(type) {
		case nil:
		case *ValidationError:
			out = append(out, e)
		case interface{ Unwrap() []error }:
			for _, inner := range e.Unwrap() {
				walk(inner)
			}
		case interface{ Unwrap() error }:
			walk(e.Unwrap())
		}
	}
	walk(err)
	return out
}

// validator collects field problems while a request is checked.
type validator struct {
	errs ValidationErrors
}

func (v *validator) add(field, problem string) {
	v.errs = append(v.errs, &ValidationError{Field: field, Problem: problem})
}

func (v *validator) addf(field, format string, args ...any) {
	v.add(field, fmt.Sprintf(format, args...))
}

// rule records a problem that a named sentinel describes.
func (v *validator) rule(field string, sentinel error, problem string) {
	v.errs = append(v.errs, &ValidationError{Field: field, Problem: problem, Err: sentinel})
}

func (v *validator) check(ok bool, field, problem string) {
	if !ok {
		v.add(field, problem)
	}
}

func (v *validator) requireReason(m Meta, why string) {
	if m.Reason == "" {
		v.rule("reason", ErrReasonRequired, why)
	}
}

// err returns the collected problems, or a nil error (not a nil slice in an
// interface) when there are none.
func (v *validator) err() error {
	if len(v.errs) == 0 {
		return nil
	}
	return v.errs
}

func invalidHistory(format string, args ...any) error {
	return fmt.Errorf(format+": %w", append(args, ErrInvalidHistory)...)
}
