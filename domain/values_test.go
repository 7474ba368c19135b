package domain_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"testing"
	"time"

	"promiseledger/domain"
)

func TestDate(t *testing.T) {
	t.Parallel()
	d, err := domain.ParseDate("2024-02-29")
	if err != nil || d != domain.NewDate(2024, time.February, 29) || d.String() != "2024-02-29" {
		t.Fatalf("ParseDate = %v, %v", d, err)
	}
	for _, bad := range []string{"2023-02-29", "2021-1-1", "01.01.2021", ""} {
		if _, err := domain.ParseDate(bad); err == nil {
			t.Errorf("ParseDate(%q) succeeded", bad)
		}
	}
	if domain.NewDate(2021, 2, 30).Valid() || !domain.NewDate(2021, 2, 28).Valid() || (domain.Date{}).Valid() {
		t.Error("Valid is wrong")
	}
	if !domain.NewDate(2021, 1, 31).Before(domain.NewDate(2021, 2, 1)) || !domain.NewDate(2022, 1, 1).After(domain.NewDate(2021, 12, 31)) {
		t.Error("ordering is wrong")
	}

	var p domain.Period
	if err := json.Unmarshal([]byte(`{"start":"2021-01-01","end":""}`), &p); err != nil || !p.End.IsZero() || p.Start.Year != 2021 {
		t.Fatalf("unmarshal period: %+v %v", p, err)
	}
	if err := json.Unmarshal([]byte(`{"start":"2021-13-01"}`), &p); err == nil {
		t.Error("unmarshal of month 13 succeeded")
	}
}

func TestTextValidate(t *testing.T) {
	t.Parallel()
	err := domain.Text{KK: " ", RU: "Дороги"}.Validate("title")
	fields := domain.FieldErrors(err)
	if len(fields) != 2 || fields[0].Field != "title.kk" || fields[1].Field != "title.en" || !errors.Is(err, domain.ErrValidation) {
		t.Fatalf("Validate = %v", err)
	}
	if err := title.Validate("title"); err != nil {
		t.Fatalf("valid text: %v", err)
	}
}

func TestFieldErrorsThroughWrapping(t *testing.T) {
	t.Parallel()
	err := fmt.Errorf("report progress: %w", domain.ValidationErrors{
		{Field: "value", Problem: "is required"},
		{Field: "reason", Problem: "say why", Err: domain.ErrReasonRequired},
	})
	fields := domain.FieldErrors(err)
	if len(fields) != 2 || fields[1].Field != "reason" {
		t.Fatalf("FieldErrors = %v", fields)
	}
	if !errors.Is(err, domain.ErrReasonRequired) || !errors.Is(err, domain.ErrValidation) || errors.Is(err, domain.ErrNotFound) {
		t.Fatalf("errors.Is is wrong for %v", err)
	}
	var one *domain.ValidationError
	if !errors.As(err, &one) || one.Field != "value" {
		t.Fatalf("errors.As found %v", one)
	}
	if got := err.Error(); got != "report progress: value: is required; reason: say why" {
		t.Fatalf("Error() = %q", got)
	}
	if domain.FieldErrors(domain.ErrNotFound) != nil {
		t.Fatal("FieldErrors of a sentinel")
	}
}

func TestIDs(t *testing.T) {
	t.Parallel()
	for id, ok := range map[string]bool{
		programID:                                       true,
		"0190A1B2-C3D4-7E5F-8A9B-000000000001":          false,
		"{0190a1b2-c3d4-7e5f-8a9b-000000000001}":        false,
		"urn:uuid:0190a1b2-c3d4-7e5f-8a9b-000000000001": false,
		"": false, "roadmap-1": false,
	} {
		if err := domain.ValidateID("id", id); (err == nil) != ok {
			t.Errorf("ValidateID(%q) = %v", id, err)
		}
	}
	for code, ok := range map[string]bool{"0": true, "110000000": true, "11000000": false, "1100000000": false, "11000000a": false, "": false, "00": false} {
		if err := domain.ValidateKATO("kato", code); (err == nil) != ok {
			t.Errorf("ValidateKATO(%q) = %v", code, err)
		}
	}
	if domain.IndicatorStream(indicatorID) != "indicator-"+indicatorID || domain.TerritoryStream("0") != "territory-0" ||
		domain.RoadmapStream(roadmapID) != "roadmap-"+roadmapID || domain.ProgramStream(programID) != "program-"+programID {
		t.Error("stream names changed")
	}
}
