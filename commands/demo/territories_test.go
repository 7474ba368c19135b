package demo_test

import (
	"testing"

	"promiseledger/commands/demo"
	"promiseledger/domain"
)

func TestTerritories(t *testing.T) {
	t.Parallel()
	territories, err := demo.Territories()
	if err != nil {
		t.Fatal(err)
	}
	if len(territories) != 236 {
		t.Fatalf("got %d territories, want 236", len(territories))
	}
	if first := territories[0]; first.KATO != domain.RepublicKATO || first.Kind != domain.TerritoryRepublic || first.ParentKATO != "" {
		t.Errorf("first territory is %+v, want the republic", first)
	}
	seen := map[string]domain.TerritoryKind{}
	kinds := map[domain.TerritoryKind]int{}
	localKinds := map[domain.TerritoryKind]int{}
	for _, tr := range territories {
		if err := tr.Name.Validate("name"); err != nil {
			t.Errorf("%s: %v", tr.KATO, err)
		}
		if tr.ParentKATO != "" {
			if _, ok := seen[tr.ParentKATO]; !ok {
				t.Errorf("%s comes before its parent %s", tr.KATO, tr.ParentKATO)
			}
		}
		seen[tr.KATO] = tr.Kind
		kinds[tr.Kind]++
		if tr.Local {
			localKinds[tr.Kind]++
		}
	}
	wantKinds := map[domain.TerritoryKind]int{
		domain.TerritoryRepublic: 1, domain.TerritoryRegion: 14, domain.TerritoryCityOfRepublicanSignificance: 3,
		domain.TerritoryDistrict: 164, domain.TerritoryCityOfRegionalSignificance: 38, domain.TerritoryCityDistrict: 16,
	}
	wantLocal := map[domain.TerritoryKind]int{
		domain.TerritoryRegion: 14, domain.TerritoryCityOfRepublicanSignificance: 3,
		domain.TerritoryDistrict: 163, domain.TerritoryCityOfRegionalSignificance: 36,
	}
	for k, n := range wantKinds {
		if kinds[k] != n {
			t.Errorf("%d territories of kind %s, want %d", kinds[k], k, n)
		}
	}
	for k, n := range wantLocal {
		if localKinds[k] != n {
			t.Errorf("%d local units of kind %s, want %d (216 = 17 + 163 + 36)", localKinds[k], k, n)
		}
	}
	if len(localKinds) != len(wantLocal) {
		t.Errorf("local units of kinds %v, want only %v", localKinds, wantLocal)
	}
}
