package demo

import (
	"cmp"
	"embed"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"promiseledger/domain"
)

// data holds the territory list; see data/README.md for where it comes from.
//
//go:embed data/territories-2021.csv data/territories-2021-notes.csv
var data embed.FS

const (
	territoriesFile = "data/territories-2021.csv"
	notesFile       = "data/territories-2021-notes.csv"
)

// Territory is one administrative unit of Kazakhstan as of 2021.
type Territory struct {
	KATO       string // nine digits, or domain.RepublicKATO
	ParentKATO string // empty for the republic
	Kind       domain.TerritoryKind
	Name       domain.Text
	// Local marks the 216 local units of the early-2021 grid (17 of
	// regional rank, 163 districts and 36 cities of regional significance):
	// the units that got a local roadmap.
	Local bool
	// Note records renames and transfers, from the notes file.
	Note string
}

// depth is the level of a kind in the hierarchy: the republic 0, units of
// regional rank 1, the rest 2.
func (t Territory) depth() int {
	switch t.Kind {
	case domain.TerritoryRepublic:
		return 0
	case domain.TerritoryRegion, domain.TerritoryCityOfRepublicanSignificance:
		return 1
	}
	return 2
}

// Territories returns the embedded 2021 territory list, the republic first
// and every parent before its children. It parses the files on every call
// rather than caching them in a package variable: they are small.
func Territories() ([]Territory, error) {
	units, err := readUnits()
	if err != nil {
		return nil, err
	}
	notes, err := readNotes()
	if err != nil {
		return nil, err
	}
	if err := join(units, notes); err != nil {
		return nil, err
	}
	// Stable: within a level the file's order (regions, then their units).
	slices.SortStableFunc(units, func(a, b Territory) int { return cmp.Compare(a.depth(), b.depth()) })
	return units, checkParents(units)
}

// note is a row of the notes file.
type note struct {
	parent string
	local  bool
	text   string
}

func readUnits() ([]Territory, error) {
	rows, err := readCSV(territoriesFile, "kato", "parent_kato", "kind", "name_kk", "name_ru", "name_en")
	if err != nil {
		return nil, err
	}
	units := make([]Territory, 0, len(rows))
	for i, r := range rows {
		kind, err := domain.ParseTerritoryKind(r["kind"])
		if err != nil {
			return nil, fmt.Errorf("%s row %d: %w", territoriesFile, i+2, err)
		}
		t := Territory{
			KATO: r["kato"], ParentKATO: r["parent_kato"], Kind: kind,
			Name: domain.Text{KK: r["name_kk"], RU: r["name_ru"], EN: r["name_en"]},
		}
		if err := errors.Join(domain.ValidateKATO("kato", t.KATO), t.Name.Validate("name")); err != nil {
			return nil, fmt.Errorf("%s row %d: %w", territoriesFile, i+2, err)
		}
		units = append(units, t)
	}
	return units, nil
}

func readNotes() (map[string]note, error) {
	rows, err := readCSV(notesFile, "kato", "parent_kato", "in_early2021_grid_216", "note")
	if err != nil {
		return nil, err
	}
	notes := make(map[string]note, len(rows))
	for i, r := range rows {
		flag := r["in_early2021_grid_216"]
		if flag != "yes" && flag != "no" {
			return nil, fmt.Errorf("%s row %d: in_early2021_grid_216 is %q, want yes or no", notesFile, i+2, flag)
		}
		if _, dup := notes[r["kato"]]; dup {
			return nil, fmt.Errorf("%s row %d: KATO %s twice", notesFile, i+2, r["kato"])
		}
		notes[r["kato"]] = note{parent: r["parent_kato"], local: flag == "yes", text: r["note"]}
	}
	return notes, nil
}

// join copies the notes onto the units and checks that the two files
// describe the same units: every unit but the republic has exactly one note.
func join(units []Territory, notes map[string]note) error {
	seen := make(map[string]bool, len(units))
	for i := range units {
		t := &units[i]
		if seen[t.KATO] {
			return fmt.Errorf("%s: KATO %s twice", territoriesFile, t.KATO)
		}
		seen[t.KATO] = true
		if t.Kind == domain.TerritoryRepublic {
			continue
		}
		n, ok := notes[t.KATO]
		switch {
		case !ok:
			return fmt.Errorf("%s has no row for KATO %s", notesFile, t.KATO)
		case n.parent != t.ParentKATO:
			return fmt.Errorf("KATO %s: parent %s in %s but %s in %s", t.KATO, t.ParentKATO, territoriesFile, n.parent, notesFile)
		}
		t.Local, t.Note = n.local, n.text
	}
	for kato := range notes {
		if !seen[kato] {
			return fmt.Errorf("%s has KATO %s, which %s lacks", notesFile, kato, territoriesFile)
		}
	}
	return nil
}

// checkParents checks that every parent comes before its children, which is
// the order they must be registered in.
func checkParents(units []Territory) error {
	seen := make(map[string]bool, len(units))
	for _, t := range units {
		if t.ParentKATO != "" && !seen[t.ParentKATO] {
			return fmt.Errorf("territory %s: parent %s is not listed before it", t.KATO, t.ParentKATO)
		}
		seen[t.KATO] = true
	}
	return nil
}

// readCSV reads an embedded CSV file into rows keyed by column name,
// requiring the named columns.
func readCSV(name string, required ...string) ([]map[string]string, error) {
	f, err := data.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	r := csv.NewReader(f)
	header, err := r.Read()
	if err != nil {
		return nil, fmt.Errorf("%s: header: %w", name, err)
	}
	for _, col := range required {
		if !slices.Contains(header, col) {
			return nil, fmt.Errorf("%s: no column %q", name, col)
		}
	}
	var rows []map[string]string
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			return rows, nil
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		row := make(map[string]string, len(header))
		for i, col := range header {
			row[col] = strings.TrimSpace(rec[i])
		}
		rows = append(rows, row)
	}
}
