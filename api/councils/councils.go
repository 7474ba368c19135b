package councils

import (
	"context"
	"fmt"
	"net/http"

	"promiseledger/api/kernel"
	"promiseledger/commands"
	"promiseledger/domain"
	"promiseledger/projections"
)

// all runs policies in order.
func all(ps ...policy) policy {
	return func(ctx context.Context, r *http.Request, p principal) error {
		for _, pol := range ps {
			if err := pol(ctx, r, p); err != nil {
				return err
			}
		}
		return nil
	}
}

// pathCouncil checks the council in the path exists.
func (s *server) pathCouncil(ctx context.Context, r *http.Request, _ principal) error {
	id := r.PathValue("id")
	if err := validUUID("council", id); err != nil {
		return err
	}
	_, err := projections.GetCouncil(ctx, s.cfg.DB, id)
	return err
}

// pathCouncilID answers 404 for a malformed council id; whether the
// council exists is the command's to say (the read model may lag a write
// just made).
func pathCouncilID(_ context.Context, r *http.Request, _ principal) error {
	return validUUID("council", r.PathValue("id"))
}

// memberOfPathCouncil: the council in the path exists and the caller is a
// current member of it.
func (s *server) memberOfPathCouncil(action string) policy {
	member := s.memberOf(action, councilInPath)
	return func(ctx context.Context, r *http.Request, p principal) error {
		if err := s.pathCouncil(ctx, r, p); err != nil {
			return err
		}
		return member(ctx, r, p)
	}
}

// memberOf allows the current members of the council councilID names.
func (s *server) memberOf(action string, councilID func(ctx context.Context, r *http.Request) (string, error)) policy {
	return func(ctx context.Context, r *http.Request, p principal) error {
		id, err := councilID(ctx, r)
		if err != nil {
			return err
		}
		ok, err := projections.IsCouncilMember(ctx, s.cfg.DB, id, p.actorID)
		if err != nil {
			return err
		}
		if !ok {
			return kernel.Forbidden(fmt.Sprintf("only current members of council %s may %s", id, action))
		}
		return nil
	}
}

func councilInPath(_ context.Context, r *http.Request) (string, error) { return r.PathValue("id"), nil }

type registerCouncilBody struct {
	writeCommon
	ID            string      `json:"id,omitempty" format:"uuid" doc:"Optional: the council's id. Default: the event's id."`
	TerritoryKATO string      `json:"territory_kato"`
	Level         string      `json:"level"`
	Name          domain.Text `json:"name"`
}

func (s *server) registerCouncil() http.Handler {
	return write(s, roles("register a council", adminOnly...), true,
		func(ctx context.Context, _ *http.Request, _ principal, h commands.Header, b *registerCouncilBody) (commands.Result, error) {
			return s.cfg.Commands.RegisterCouncil.Handle(ctx, commands.RegisterCouncil{Header: h, ID: b.ID, TerritoryKATO: b.TerritoryKATO,
				Level: domain.CouncilLevel(b.Level), Name: b.Name})
		})
}

type joinCouncilBody struct {
	writeCommon
	MemberID    string `json:"member_id"`
	Role        string `json:"role"`
	DisplayName string `json:"display_name"`
}

func (s *server) joinCouncil() http.Handler {
	return write(s, all(roles("add council members", adminOnly...), pathCouncilID), true,
		func(ctx context.Context, r *http.Request, _ principal, h commands.Header, b *joinCouncilBody) (commands.Result, error) {
			return s.cfg.Commands.JoinCouncil.Handle(ctx, commands.JoinCouncil{Header: h, CouncilID: r.PathValue("id"), MemberID: b.MemberID,
				Role: domain.CouncilMemberRole(b.Role), DisplayName: b.DisplayName})
		})
}

type reasonBody struct {
	writeCommon
}

func (s *server) leaveCouncil() http.Handler {
	return write(s, all(roles("remove council members", adminOnly...), pathCouncilID), false,
		func(ctx context.Context, r *http.Request, _ principal, h commands.Header, _ *reasonBody) (commands.Result, error) {
			return s.cfg.Commands.LeaveCouncil.Handle(ctx, commands.LeaveCouncil{Header: h, CouncilID: r.PathValue("id"), MemberID: r.PathValue("member_id")})
		})
}

func (s *server) listCouncils(w http.ResponseWriter, r *http.Request) error {
	q := s.query(r)
	f := projections.CouncilFilter{Level: q.Enum("level", "republican", "regional", "district"), TerritoryKATO: q.Str("kato"),
		WithinKATO: q.Str("within"), Cursor: q.Str("cursor"), Limit: q.limit()}
	if err := q.Err(); err != nil {
		return err
	}
	p, err := projections.ListCouncils(r.Context(), s.cfg.DB, f)
	if err != nil {
		return err
	}
	kernel.WritePage(w, r, p.Items, p.NextCursor)
	return nil
}

func (s *server) getCouncil(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	if err := validUUID("council", id); err != nil {
		return err
	}
	c, err := projections.GetCouncil(r.Context(), s.cfg.DB, id)
	if err != nil {
		return err
	}
	kernel.WriteJSON(w, http.StatusOK, c)
	return nil
}

// councilMembersAnswer is a council's members as of a time.
type councilMembersAnswer struct {
	CouncilID string                          `json:"council_id" doc:"The council."`
	AsOf      *projections.AxisTime           `json:"as_of,omitempty" doc:"The time asked for, when one was; absent: now."`
	Items     []projections.CouncilMemberView `json:"items" doc:"Membership periods."`
}

func (s *server) councilMembers(w http.ResponseWriter, r *http.Request) error {
	if err := s.pathCouncil(r.Context(), r, principal{}); err != nil {
		return err
	}
	q := s.query(r)
	asOf, former := q.at("as_of"), q.flag("former")
	if err := q.Err(); err != nil {
		return err
	}
	ms, err := projections.CouncilMembers(r.Context(), s.cfg.DB, r.PathValue("id"), asOf, former)
	if err != nil {
		return err
	}
	kernel.WriteJSON(w, http.StatusOK, councilMembersAnswer{CouncilID: r.PathValue("id"), AsOf: projections.AxisTimeOf(asOf), Items: ms})
	return nil
}

// councilLeague is the league of the assembly that belongs to a council:
// {id} is a public council's id (its territory's maslikhat, or the
// Mazhilis for the republic) or an assembly id ("mazhilis",
// "maslikhat-110000000").
func (s *server) councilLeague(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	assembly := ""
	if domain.ValidateID("id", id) == nil {
		c, err := projections.GetCouncil(r.Context(), s.cfg.DB, id)
		if err != nil {
			return err
		}
		a := domain.Assembly{Kind: domain.AssemblyMaslikhat, TerritoryKATO: c.TerritoryKATO}
		if c.TerritoryKATO == domain.RepublicKATO {
			a.Kind = domain.AssemblyMazhilis
		}
		assembly = a.ID()
	} else if a, ok := domain.ParseAssemblyID(id); ok {
		assembly = a.ID()
	} else {
		return kernel.NotFound(fmt.Sprintf("no council or assembly %q", id))
	}
	return s.league(w, r, projections.LeagueQuery{AssemblyID: assembly})
}
