package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"promiseledger/commands"
	"promiseledger/domain"
	"promiseledger/eventstore/postgres"
	"promiseledger/eventstore/postgres/pgtest"
)

func TestImport(t *testing.T) {
	url := pgtest.NewURL(t)
	vars := map[string]string{"LEDGER_DATABASE_URL": url}
	if _, _, err := runCmd(t, vars, "migrate"); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	store, err := postgres.Open(ctx, postgres.Config{URL: url})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	h, err := commands.New(commands.Deps{Store: store})
	if err != nil {
		t.Fatal(err)
	}
	admin := commands.Header{Actor: commands.Actor{ID: "a", Role: "admin"}}
	txt := func(s string) domain.Text { return domain.Text{KK: s + " kk", RU: s + " ru", EN: s} }
	period := domain.Period{Start: domain.NewDate(2021, 1, 1), End: domain.NewDate(2025, 12, 31)}
	prog, err := h.RegisterProgram.Handle(ctx, commands.RegisterProgram{Header: admin, Name: txt("P"), Kind: domain.ProgramMain, Period: period})
	if err != nil {
		t.Fatal(err)
	}
	for _, tr := range []commands.RegisterTerritory{
		{Header: admin, KATO: "0", Name: txt("KZ"), Kind: domain.TerritoryRepublic},
		{Header: admin, KATO: "110000000", Name: txt("Akmola"), Kind: domain.TerritoryRegion, ParentKATO: "0"},
	} {
		if _, err := h.RegisterTerritory.Handle(ctx, tr); err != nil {
			t.Fatal(err)
		}
	}
	rm, err := h.RegisterRoadmap.Handle(ctx, commands.RegisterRoadmap{Header: admin, ProgramID: prog.ID, TerritoryKATO: "110000000",
		Level: domain.LevelRegional, Title: txt("R"), Period: period})
	if err != nil {
		t.Fatal(err)
	}
	count := func() int {
		var n int
		if err := store.DB().Get(&n, `SELECT count(*) FROM events`); err != nil {
			t.Fatal(err)
		}
		return n
	}
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	header := "roadmap_id,title_kk,title_ru,title_en,kind,baseline,target,unit_kk,unit_ru,unit_en,deadline,weight,responsible_id\n"
	good := header +
		rm.ID + ",Мектеп,Школа,School,milestone,,,,,,2023-12-31,1,\n" +
		rm.ID + ",Жол,Дорога,Road,numeric,0,120,шақырым,км,km,2024-06-30,2,\n"
	bad := good +
		rm.ID + ",,Без казахского,No Kazakh,milestone,,,,,,2023-12-31,1,\n" +
		"00000000-0000-7000-8000-000000000000,А,Б,C,milestone,,,,,,2023-12-31,1,\n" +
		rm.ID + ",А,Б,C,numeric,0,\"1,5\",a,b,c,31.12.2024,1,\n"

	before := count()
	stdout, _, err := runCmd(t, vars, "import", "--file", write("bad.csv", bad))
	if err == nil || !strings.Contains(stdout, "line 4: title.kk") || !strings.Contains(stdout, "line 5") ||
		!strings.Contains(stdout, `line 6: target: "1,5" is not a number`) || !strings.Contains(stdout, `line 6: deadline: "31.12.2024" is not a date`) {
		t.Fatalf("bad file: err %v\n%s", err, stdout)
	}
	if count() != before {
		t.Fatal("a rejected import wrote events")
	}
	goodPath := write("good.csv", "\ufeff"+good) // as Excel saves "CSV UTF-8"
	stdout, _, err = runCmd(t, vars, "import", "--file", goodPath, "--dry-run")
	if err != nil || !strings.Contains(stdout, "dry run") || count() != before {
		t.Fatalf("dry run: %v, %d new events\n%s", err, count()-before, stdout)
	}
	stdout, _, err = runCmd(t, vars, "import", "--file", goodPath)
	if err != nil || count() != before+2 {
		t.Fatalf("import: %v, %d new events, want 2\n%s", err, count()-before, stdout)
	}
	stdout, _, err = runCmd(t, vars, "import", "--file", goodPath)
	if err != nil || count() != before+2 || !strings.Contains(stdout, "already in the ledger") {
		t.Fatalf("second import: %v, %d new events, want none\n%s", err, count()-before-2, stdout)
	}
	// JSON: a roadmap and its measures by ref, in one transaction.
	js := `{"roadmaps":[{"ref":"r","program_id":"` + prog.ID + `","territory_kato":"110000000","level":"regional",
"title":{"kk":"Жол картасы","ru":"Дорожная карта","en":"Roadmap"},"period":{"start":"2021-01-01","end":"2025-12-31"}}],
"indicators":[{"roadmap_ref":"r","title":{"kk":"А","ru":"Б","en":"C"},"kind":"milestone","deadline":"2022-01-01","weight":1}]}`
	stdout, _, err = runCmd(t, vars, "import", "--file", write("one.json", js))
	if err != nil || count() != before+2+3 {
		t.Fatalf("json import: %v, %d new events, want 3\n%s", err, count()-before-2, stdout)
	}
}
