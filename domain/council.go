package domain

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
)

// CouncilMembership is one period of a person's membership of a council.
// Times are effective times; LeftAt is zero while the person is a member.
type CouncilMembership struct {
	CouncilMember
	JoinedAt     time.Time `json:"joined_at"`
	LeftAt       time.Time `json:"left_at,omitzero"`
	JoinEventID  uuid.UUID `json:"join_event_id"`
	LeaveEventID uuid.UUID `json:"leave_event_id,omitzero"`
	LeaveReason  string    `json:"leave_reason,omitempty"`
}

// Current reports whether the membership has not ended.
func (m CouncilMembership) Current() bool { return m.LeftAt.IsZero() }

// CouncilState is the fold of a council's events; the Council aggregate
// decides with it and read models reuse it (FoldCouncil). Treat it as read
// only.
type CouncilState struct {
	ID            string       `json:"id"`
	TerritoryKATO string       `json:"territory_kato"`
	Level         CouncilLevel `json:"level"`
	Name          Text         `json:"name"`
	RegisteredAt  time.Time    `json:"registered_at"`
	// Memberships lists every membership period in order of joining.
	Memberships []CouncilMembership `json:"memberships"`

	last time.Time // effective time of the latest event folded
}

// FoldCouncil folds the events of history that keep accepts (all when keep
// is nil). With EffectiveBy(t) it gives the council as it stood at t.
func FoldCouncil(history []Envelope, keep func(Envelope) bool) (CouncilState, error) {
	var s CouncilState
	for _, env := range history {
		if keep != nil && !keep(env) {
			continue
		}
		if err := s.Apply(env.Event, env.Meta); err != nil {
			return CouncilState{}, err
		}
	}
	return s, nil
}

// Apply folds one event.
func (s *CouncilState) Apply(ev Event, m Meta) error {
	if e, ok := ev.(CouncilRegistered); ok {
		if s.ID != "" {
			return invalidHistory("council %s registered twice", s.ID)
		}
		*s = CouncilState{ID: e.CouncilID, TerritoryKATO: e.TerritoryKATO, Level: e.Level, Name: e.Name,
			RegisteredAt: effectiveOf(m), last: effectiveOf(m)}
		return nil
	}
	e, ok := ev.(interface{ councilID() string })
	switch {
	case !ok:
		return invalidHistory("%s does not apply to a council", ev.EventType())
	case s.ID == "":
		return invalidHistory("%s before %s", ev.EventType(), TypeCouncilRegistered)
	case e.councilID() != s.ID:
		return invalidHistory("%s of council %s in the history of council %s", ev.EventType(), e.councilID(), s.ID)
	}
	switch e := ev.(type) {
	case CouncilMemberJoined:
		if _, ok := s.Member(e.MemberID); ok {
			return invalidHistory("member %s joined council %s twice", e.MemberID, s.ID)
		}
		s.Memberships = append(s.Memberships, CouncilMembership{CouncilMember: e.CouncilMember,
			JoinedAt: effectiveOf(m), JoinEventID: m.EventID})
	case CouncilMemberLeft:
		i := s.current(e.MemberID)
		if i < 0 {
			return invalidHistory("member %s left council %s without being a member", e.MemberID, s.ID)
		}
		s.Memberships[i].LeftAt, s.Memberships[i].LeaveEventID, s.Memberships[i].LeaveReason = effectiveOf(m), m.EventID, m.Reason
	}
	s.last = effectiveOf(m)
	return nil
}

func (s *CouncilState) current(memberID string) int {
	return slices.IndexFunc(s.Memberships, func(ms CouncilMembership) bool { return ms.MemberID == memberID && ms.Current() })
}

// Member returns a person's current membership.
func (s CouncilState) Member(id string) (CouncilMembership, bool) {
	if i := s.current(id); i >= 0 {
		return s.Memberships[i], true
	}
	return CouncilMembership{}, false
}

// IsMember reports whether the person is a current member.
func (s CouncilState) IsMember(id string) bool { return s.current(id) >= 0 }

// CurrentMembers lists the current members in order of joining.
func (s CouncilState) CurrentMembers() []CouncilMembership {
	var out []CouncilMembership
	for _, ms := range s.Memberships {
		if ms.Current() {
			out = append(out, ms)
		}
	}
	return out
}

func (s CouncilState) chair() (CouncilMembership, bool) {
	for _, ms := range s.Memberships {
		if ms.Current() && ms.Role == MemberChair {
			return ms, true
		}
	}
	return CouncilMembership{}, false
}

// Council is a public council: a territory's body of active citizens that
// monitors promises and recommends to state bodies.
type Council struct {
	recorder
	state CouncilState
}

// RebuildCouncil folds a council's stored history.
func RebuildCouncil(history []Envelope) (*Council, error) {
	c := &Council{}
	if err := c.replay(history, c.state.Apply); err != nil {
		return nil, fmt.Errorf("rebuild council: %w", err)
	}
	return c, nil
}

// ID is the council's id ("" before it is registered).
func (c *Council) ID() string { return c.state.ID }

// Exists reports whether the council is registered.
func (c *Council) Exists() bool { return c.state.ID != "" }

// State returns a copy of the folded state.
func (c *Council) State() CouncilState {
	s := c.state
	s.Memberships = slices.Clone(c.state.Memberships)
	return s
}

// IsMember reports whether the person is a current member.
func (c *Council) IsMember(id string) bool { return c.state.IsMember(id) }

// Register records that the council exists. territory is the registered
// territory e names (nil when the caller found none); the level must be the
// territory's: republican for the republic, regional for a unit of regional
// rank, district below.
func (c *Council) Register(e CouncilRegistered, territory *Territory, m Meta) error {
	if c.Exists() {
		return fmt.Errorf("council %s: %w", c.state.ID, ErrAlreadyExists)
	}
	var v validator
	m = c.stamp(m, &v)
	e.Name = e.Name.trimmed()
	validateID(&v, "council_id", e.CouncilID)
	validateKATO(&v, "territory_kato", e.TerritoryKATO)
	e.Name.validate(&v, "name")
	v.check(e.Level.Valid(), "level", `must be "republican", "regional" or "district"`)
	if territory == nil || !territory.Exists() || territory.kato != e.TerritoryKATO {
		v.rule("territory_kato", ErrUnknownReference, fmt.Sprintf("no territory %s is registered", e.TerritoryKATO))
	} else if want := LevelOfTerritory(territory.kind); e.Level.Valid() && e.Level != want {
		v.addf("level", "a council of a %s is %s", territory.kind, want)
	}
	if err := v.err(); err != nil {
		return err
	}
	return c.record(e, m, c.state.Apply)
}

// Join makes a person a member. A council has at most one chair at a time.
func (c *Council) Join(p CouncilMember, m Meta) error {
	if !c.Exists() {
		return fmt.Errorf("council: %w", ErrNotFound)
	}
	p.MemberID = strings.TrimSpace(p.MemberID)
	p.DisplayName = cleanText(p.DisplayName, false)
	if c.state.IsMember(p.MemberID) {
		return fmt.Errorf("person %s on council %s: %w", p.MemberID, c.state.ID, ErrAlreadyMember)
	}
	var v validator
	m = c.stamp(m, &v)
	monotonic(&v, m, c.state.last)
	validateOpaquePersonID(&v, "member_id", p.MemberID)
	validateDisplayName(&v, "display_name", p.DisplayName)
	v.check(p.Role.Valid(), "role", `must be "chair" or "member"`)
	if chair, ok := c.state.chair(); ok && p.Role == MemberChair {
		v.addf("role", "the council has a chair (%s): the chair leaves first", chair.MemberID)
	}
	if err := v.err(); err != nil {
		return err
	}
	return c.record(CouncilMemberJoined{CouncilID: c.state.ID, CouncilMember: p}, m, c.state.Apply)
}

// Leave ends a person's membership; it needs a reason.
func (c *Council) Leave(memberID string, m Meta) error {
	if !c.Exists() {
		return fmt.Errorf("council: %w", ErrNotFound)
	}
	memberID = strings.TrimSpace(memberID)
	if !c.state.IsMember(memberID) {
		return fmt.Errorf("person %q on council %s: %w", memberID, c.state.ID, ErrNotMember)
	}
	var v validator
	m = c.stamp(m, &v)
	monotonic(&v, m, c.state.last)
	v.requireReason(m, "say why the member leaves")
	if err := v.err(); err != nil {
		return err
	}
	return c.record(CouncilMemberLeft{CouncilID: c.state.ID, MemberID: memberID}, m, c.state.Apply)
}

// actingMember checks that the actor of m is a current member of council,
// for the commands a council issues through its members.
func actingMember(council *Council, councilID string, m Meta) error {
	switch {
	case council == nil || !council.Exists() || council.state.ID != councilID:
		return ValidationErrors{{Field: "council_id", Problem: fmt.Sprintf("no council %s is registered", councilID), Err: ErrUnknownReference}}
	case !council.state.IsMember(strings.TrimSpace(m.ActorID)):
		return fmt.Errorf("%s on council %s: %w", strings.TrimSpace(m.ActorID), councilID, ErrNotMember)
	}
	return nil
}
