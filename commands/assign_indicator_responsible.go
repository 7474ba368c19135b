package commands

import (
	"context"

	"promiseledger/domain"
)

// AssignIndicatorResponsible makes a person answerable for an indicator,
// replacing whoever was.
type AssignIndicatorResponsible struct {
	Header
	IndicatorID string
	PersonID    string
}

// AssignIndicatorResponsibleHandler handles AssignIndicatorResponsible.
type AssignIndicatorResponsibleHandler struct{ r *runner }

// Handle records indicator.responsible_assigned.v1.
func (h AssignIndicatorResponsibleHandler) Handle(ctx context.Context, cmd AssignIndicatorResponsible) (Result, error) {
	return changeIndicator(ctx, h.r, cmd.Header, cmd.IndicatorID, domain.TypeIndicatorResponsibleAssigned,
		func(a *domain.Indicator, m domain.Meta) error { return a.AssignResponsible(cmd.PersonID, m) })
}
