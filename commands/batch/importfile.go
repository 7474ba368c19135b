package batch

import (
	"context"
	"crypto/sha256"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/google/uuid"

	"promiseledger/commands"
	"promiseledger/domain"
)

// File is an import: roadmaps to register and measures to add. JSON files
// carry both; CSV files (one measure per row, the spreadsheet case) carry
// measures only. docs/import.md describes both formats.
type File struct {
	Roadmaps   []RoadmapRow   `json:"roadmaps"`
	Indicators []IndicatorRow `json:"indicators"`
	digest     [32]byte
}

// RoadmapRow registers (and by default activates) a roadmap. Ref names it
// for the indicators of the same file; ID is derived from the file when
// empty.
type RoadmapRow struct {
	Ref           string        `json:"ref"`
	ID            string        `json:"id"`
	ProgramID     string        `json:"program_id"`
	TerritoryKATO string        `json:"territory_kato"`
	Level         string        `json:"level"`
	Title         domain.Text   `json:"title"`
	Period        domain.Period `json:"period"`
	Activate      *bool         `json:"activate"`
}

// IndicatorRow adds a measure to a roadmap named by id or by the Ref of a
// roadmap in the same file.
type IndicatorRow struct {
	RoadmapID     string       `json:"roadmap_id"`
	RoadmapRef    string       `json:"roadmap_ref"`
	Title         domain.Text  `json:"title"`
	Kind          string       `json:"kind"`
	Baseline      *float64     `json:"baseline"`
	Target        *float64     `json:"target"`
	Unit          domain.Text  `json:"unit"`
	Deadline      *domain.Date `json:"deadline"`
	Weight        float64      `json:"weight"`
	ResponsibleID string       `json:"responsible_id"`
	line          int
	unreadable    []Rejection // CSV cells that could not be read
}

// Rejection says why one row was refused.
type Rejection struct {
	Row      string `json:"row"` // e.g. "indicators[3]" or "line 5"
	Field    string `json:"field,omitempty"`
	Problem  string `json:"problem"`
	TargetID string `json:"id,omitempty"`
}

// ParseFile reads a JSON or CSV import; format is "json" or "csv".
func ParseFile(r io.Reader, format string) (*File, error) {
	raw, err := io.ReadAll(r)
	if err != nil {
		return nil, err
	}
	f := &File{digest: sha256.Sum256(raw)}
	switch format {
	case "json":
		dec := json.NewDecoder(strings.NewReader(string(raw)))
		dec.DisallowUnknownFields()
		if err := dec.Decode(f); err != nil {
			return nil, fmt.Errorf("import: not a valid JSON import: %w", err)
		}
	case "csv":
		rows, err := parseCSV(string(raw))
		if err != nil {
			return nil, err
		}
		f.Indicators = rows
	default:
		return nil, fmt.Errorf("import: unknown format %q (want json or csv)", format)
	}
	return f, nil
}

var csvColumns = []string{"roadmap_id", "title_kk", "title_ru", "title_en", "kind", "baseline", "target", "unit_kk", "unit_ru", "unit_en", "deadline", "weight", "responsible_id"}

func parseCSV(raw string) ([]IndicatorRow, error) {
	r := csv.NewReader(strings.NewReader(raw))
	r.FieldsPerRecord = -1
	records, err := r.ReadAll()
	if err != nil {
		return nil, fmt.Errorf("import: not a valid CSV file: %w", err)
	}
	if len(records) == 0 {
		return nil, errors.New("import: the CSV file is empty")
	}
	col := map[string]int{}
	for i, h := range records[0] {
		h = strings.TrimPrefix(h, "\ufeff") // Excel's "CSV UTF-8" starts with a byte-order mark
		col[strings.TrimSpace(strings.ToLower(h))] = i
	}
	for _, c := range []string{"roadmap_id", "title_kk", "title_ru", "title_en", "kind", "deadline"} {
		if _, ok := col[c]; !ok {
			return nil, fmt.Errorf("import: the CSV header lacks the column %q (columns: %s)", c, strings.Join(csvColumns, ","))
		}
	}
	get := func(rec []string, name string) string {
		if i, ok := col[name]; ok && i < len(rec) {
			return strings.TrimSpace(rec[i])
		}
		return ""
	}
	var out []IndicatorRow
	for n, rec := range records[1:] {
		row := IndicatorRow{
			RoadmapID: get(rec, "roadmap_id"), Kind: get(rec, "kind"), ResponsibleID: get(rec, "responsible_id"),
			Title: domain.Text{KK: get(rec, "title_kk"), RU: get(rec, "title_ru"), EN: get(rec, "title_en")},
			Unit:  domain.Text{KK: get(rec, "unit_kk"), RU: get(rec, "unit_ru"), EN: get(rec, "unit_en")},
			line:  n + 2,
		}
		var unreadable []Rejection
		cell := func(name string) *float64 {
			v, err := number(get(rec, name))
			if err != nil {
				unreadable = append(unreadable, Rejection{Field: name, Problem: err.Error()})
			}
			return v
		}
		row.Baseline, row.Target = cell("baseline"), cell("target")
		if w := cell("weight"); w != nil {
			row.Weight = *w
		}
		if d := get(rec, "deadline"); d != "" {
			if date, err := domain.ParseDate(d); err == nil {
				row.Deadline = &date
			} else {
				unreadable = append(unreadable, Rejection{Field: "deadline", Problem: fmt.Sprintf("%q is not a date (want YYYY-MM-DD)", d)})
			}
		}
		row.unreadable = unreadable
		out = append(out, row)
	}
	return out, nil
}

// number reads a cell: empty is absent; anything else must be a number
// with a decimal point (1.5, not 1,5 or "1 200").
func number(s string) (*float64, error) {
	if s == "" {
		return nil, nil
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return nil, fmt.Errorf("%q is not a number (write 1200 or 1.5)", s)
	}
	return &v, nil
}

// Run decides every row against the overlay with handlers built over it.
// Rows are independent: a rejected row does not stop the others from being
// checked, so the report lists every problem at once. Event ids derive from
// the file's digest and the row, so importing the same file twice changes
// nothing the second time.
func (f *File) Run(ctx context.Context, h *commands.Handlers, actor commands.Actor) (accepted int, rejected []Rejection) {
	refs := map[string]string{}
	for i, r := range f.Roadmaps {
		row := fmt.Sprintf("roadmaps[%d]", i)
		id, rej := f.roadmap(ctx, h, actor, i, r)
		if rej != nil {
			for _, x := range rej {
				x.Row = row
				rejected = append(rejected, x)
			}
			continue
		}
		if r.Ref != "" {
			refs[r.Ref] = id
		}
		accepted++
	}
	for i, r := range f.Indicators {
		row := fmt.Sprintf("indicators[%d]", i)
		if r.line > 0 {
			row = fmt.Sprintf("line %d", r.line)
		}
		if len(r.unreadable) > 0 {
			for _, x := range r.unreadable {
				x.Row = row
				rejected = append(rejected, x)
			}
			continue
		}
		roadmap := r.RoadmapID
		if r.RoadmapRef != "" {
			if roadmap = refs[r.RoadmapRef]; roadmap == "" {
				rejected = append(rejected, Rejection{Row: row, Field: "roadmap_ref", Problem: fmt.Sprintf("no accepted roadmap in this file has ref %q", r.RoadmapRef)})
				continue
			}
		}
		cmd := commands.AddIndicator{
			Header:    commands.Header{Actor: actor, EventID: f.eventID("indicator", i)},
			RoadmapID: roadmap, Title: r.Title, Kind: domain.IndicatorKind(r.Kind), Baseline: r.Baseline, Target: r.Target,
			Unit: r.Unit, Weight: r.Weight, ResponsibleID: r.ResponsibleID,
		}
		if r.Deadline != nil {
			cmd.Deadline = *r.Deadline
		}
		if _, err := h.AddIndicator.Handle(ctx, cmd); err != nil {
			rejected = append(rejected, rejections(row, err)...)
			continue
		}
		accepted++
	}
	return accepted, rejected
}

func (f *File) roadmap(ctx context.Context, h *commands.Handlers, actor commands.Actor, i int, r RoadmapRow) (string, []Rejection) {
	id := r.ID
	if id == "" {
		id = f.eventID("roadmap", i).String()
	}
	res, err := h.RegisterRoadmap.Handle(ctx, commands.RegisterRoadmap{
		Header: commands.Header{Actor: actor, EventID: f.eventID("roadmap", i)},
		ID:     id, ProgramID: r.ProgramID, TerritoryKATO: r.TerritoryKATO, Level: domain.RoadmapLevel(r.Level), Title: r.Title, Period: r.Period,
	})
	if err != nil {
		return "", rejections("", err)
	}
	if r.Activate == nil || *r.Activate {
		_, err := h.ActivateRoadmap.Handle(ctx, commands.ActivateRoadmap{Header: commands.Header{Actor: actor, EventID: f.eventID("activate", i)}, RoadmapID: res.ID})
		if err != nil && !errors.Is(err, domain.ErrInvalidTransition) {
			return "", rejections("", err)
		}
	}
	return res.ID, nil
}

// importNamespace keys the ids derived from import files.
var importNamespace = uuid.MustParse("6f1b3c0e-8a44-4d0b-9c36-2f1f7c5a9e21")

func (f *File) eventID(kind string, i int) uuid.UUID {
	return uuid.NewSHA1(importNamespace, fmt.Appendf(f.digest[:], ":%s:%d", kind, i))
}

func rejections(row string, err error) []Rejection {
	fields := domain.FieldErrors(err)
	if len(fields) == 0 {
		return []Rejection{{Row: row, Problem: err.Error()}}
	}
	out := make([]Rejection, 0, len(fields))
	for _, fe := range fields {
		out = append(out, Rejection{Row: row, Field: fe.Field, Problem: fe.Problem})
	}
	return out
}
