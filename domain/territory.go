package domain

import (
	"fmt"
	"strings"
)

// TerritoryKind is the rank of an administrative unit.
type TerritoryKind string

const (
	TerritoryRepublic                     TerritoryKind = "republic"
	TerritoryRegion                       TerritoryKind = "region"
	TerritoryCityOfRepublicanSignificance TerritoryKind = "city_of_republican_significance"
	TerritoryDistrict                     TerritoryKind = "district"
	TerritoryCityOfRegionalSignificance   TerritoryKind = "city_of_regional_significance"
	// TerritoryCityDistrict is a district inside Nur-Sultan, Almaty or
	// Shymkent; the 2021 territory list has sixteen.
	TerritoryCityDistrict TerritoryKind = "city_district"
)

// parentKinds says which kind of unit each kind belongs to; the republic
// belongs to none.
var parentKinds = map[TerritoryKind]TerritoryKind{
	TerritoryRegion:                       TerritoryRepublic,
	TerritoryCityOfRepublicanSignificance: TerritoryRepublic,
	TerritoryDistrict:                     TerritoryRegion,
	TerritoryCityOfRegionalSignificance:   TerritoryRegion,
	TerritoryCityDistrict:                 TerritoryCityOfRepublicanSignificance,
}

// Valid reports whether k is a known kind.
func (k TerritoryKind) Valid() bool {
	_, child := parentKinds[k]
	return child || k == TerritoryRepublic
}

// ParseTerritoryKind reads a kind, accepting the short names of
// shared/data/territories-2021.csv (city_republican, city_regional) too.
func ParseTerritoryKind(s string) (TerritoryKind, error) {
	k := TerritoryKind(strings.TrimSpace(s))
	switch k {
	case "city_republican":
		return TerritoryCityOfRepublicanSignificance, nil
	case "city_regional":
		return TerritoryCityOfRegionalSignificance, nil
	}
	if !k.Valid() {
		return "", ValidationErrors{{Field: "kind", Problem: fmt.Sprintf("unknown territory kind %q", s)}}
	}
	return k, nil
}

// Territory is an administrative unit, identified by its KATO code.
type Territory struct {
	recorder
	kato   string
	name   Text
	kind   TerritoryKind
	parent string
}

// RebuildTerritory folds a territory's stored history.
func RebuildTerritory(history []Envelope) (*Territory, error) {
	t := &Territory{}
	if err := t.replay(history, t.apply); err != nil {
		return nil, fmt.Errorf("rebuild territory: %w", err)
	}
	return t, nil
}

func (t *Territory) KATO() string        { return t.kato }
func (t *Territory) Name() Text          { return t.name }
func (t *Territory) Kind() TerritoryKind { return t.kind }
func (t *Territory) ParentKATO() string  { return t.parent }

// Exists reports whether the territory has been registered.
func (t *Territory) Exists() bool { return t.kato != "" }

// Register records that the territory exists. parent is the registered
// territory e.ParentKATO names (nil for the republic, or when the caller
// found none); it must be of the kind this kind belongs to.
func (t *Territory) Register(e TerritoryRegistered, parent *Territory, m Meta) error {
	if t.Exists() {
		return fmt.Errorf("territory %s: %w", t.kato, ErrAlreadyExists)
	}
	var v validator
	m = t.stamp(m, &v)
	e.Name = e.Name.trimmed()
	e.Name.validate(&v, "name")
	validateKATO(&v, "kato", e.KATO)
	if e.KATO == RepublicKATO && e.Kind != TerritoryRepublic {
		v.addf("kato", "%q is the republic's code", RepublicKATO)
	}
	wantParent, hasParent := parentKinds[e.Kind]
	switch {
	case !e.Kind.Valid():
		v.addf("kind", "unknown territory kind %q", e.Kind)
	case !hasParent:
		v.check(e.ParentKATO == "", "parent_kato", "the republic has no parent")
	case e.ParentKATO == "":
		v.addf("parent_kato", "is required: a %s belongs to a %s", e.Kind, wantParent)
	case parent == nil || !parent.Exists() || parent.kato != e.ParentKATO:
		v.rule("parent_kato", ErrUnknownReference, fmt.Sprintf("no territory %s is registered", e.ParentKATO))
	case parent.kind != wantParent:
		v.addf("parent_kato", "a %s belongs to a %s, and %s is a %s", e.Kind, wantParent, parent.kato, parent.kind)
	}
	if err := v.err(); err != nil {
		return err
	}
	return t.record(e, m, t.apply)
}

func (t *Territory) apply(ev Event, _ Meta) error {
	switch e := ev.(type) {
	case TerritoryRegistered:
		if t.Exists() {
			return invalidHistory("territory %s registered twice", t.kato)
		}
		t.kato, t.name, t.kind, t.parent = e.KATO, e.Name, e.Kind, e.ParentKATO
		return nil
	default:
		return invalidHistory("%s does not apply to a territory", ev.EventType())
	}
}
