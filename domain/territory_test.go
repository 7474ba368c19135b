package domain_test

import (
	"testing"

	"promiseledger/domain"
)

func TestTerritory(t *testing.T) {
	t.Parallel()
	rep := mustRebuild(t, domain.RebuildTerritory, republic)
	region := mustRebuild(t, domain.RebuildTerritory, akmola)
	almaty := mustRebuild(t, domain.RebuildTerritory, domain.TerritoryRegistered{
		KATO: "750000000", Name: title, Kind: domain.TerritoryCityOfRepublicanSignificance, ParentKATO: "0",
	})
	register := func(e domain.TerritoryRegistered, parent *domain.Territory) func(*domain.Territory, domain.Meta) error {
		return func(tr *domain.Territory, m domain.Meta) error { return tr.Register(e, parent, m) }
	}
	district := domain.TerritoryRegistered{KATO: "113200000", Name: title, Kind: domain.TerritoryDistrict, ParentKATO: "110000000"}
	cityDistrict := domain.TerritoryRegistered{KATO: "751210000", Name: title, Kind: domain.TerritoryCityDistrict, ParentKATO: "750000000"}
	with := func(e domain.TerritoryRegistered, edit func(*domain.TerritoryRegistered)) domain.TerritoryRegistered {
		edit(&e)
		return e
	}

	runScenarios(t, domain.RebuildTerritory, []scenario[*domain.Territory]{
		{name: "republic without parent", when: register(republic, nil), then: []domain.Event{republic}},
		{name: "region in the republic", when: register(akmola, rep), then: []domain.Event{akmola}},
		{name: "district in a region", when: register(district, region), then: []domain.Event{district}},
		{name: "city district in a city of republican significance", when: register(cityDistrict, almaty), then: []domain.Event{cityDistrict}},
		{name: "exists already", given: history(akmola), when: register(akmola, rep), err: domain.ErrAlreadyExists},
		{name: "district in the republic", when: register(with(district, func(e *domain.TerritoryRegistered) { e.ParentKATO = "0" }), rep), field: "parent_kato"},
		{name: "region without parent", when: register(with(akmola, func(e *domain.TerritoryRegistered) { e.ParentKATO = "" }), nil), field: "parent_kato"},
		{name: "parent not registered", when: register(district, nil), err: domain.ErrUnknownReference, field: "parent_kato"},
		{name: "republic with a parent", when: register(with(republic, func(e *domain.TerritoryRegistered) { e.ParentKATO = "110000000" }), region), field: "parent_kato"},
		{name: "kato of eight digits", when: register(with(akmola, func(e *domain.TerritoryRegistered) { e.KATO = "11000000" }), rep), field: "kato"},
		{name: "republic's code for a region", when: register(with(akmola, func(e *domain.TerritoryRegistered) { e.KATO = "0" }), rep), field: "kato"},
		{name: "unknown kind", when: register(with(akmola, func(e *domain.TerritoryRegistered) { e.Kind = "village" }), rep), field: "kind"},
		{name: "needs names", when: register(with(akmola, func(e *domain.TerritoryRegistered) { e.Name.EN = "" }), rep), field: "name.en"},
	})
}

func TestParseTerritoryKind(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]domain.TerritoryKind{
		"republic":                        domain.TerritoryRepublic,
		"city_republican":                 domain.TerritoryCityOfRepublicanSignificance,
		"city_regional":                   domain.TerritoryCityOfRegionalSignificance,
		"city_of_regional_significance":   domain.TerritoryCityOfRegionalSignificance,
		" district ":                      domain.TerritoryDistrict,
		"city_district":                   domain.TerritoryCityDistrict,
		"city_of_republican_significance": domain.TerritoryCityOfRepublicanSignificance,
	} {
		if got, err := domain.ParseTerritoryKind(in); err != nil || got != want {
			t.Errorf("ParseTerritoryKind(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	if _, err := domain.ParseTerritoryKind("village"); err == nil {
		t.Error("ParseTerritoryKind(village) succeeded")
	}
}
