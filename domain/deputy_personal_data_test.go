package domain

// The personal-data rule: no citizen's personal data may enter any event.
// This test walks the Go type of every event type the codec reads (current
// and retired, the existing ones included) and the stored metadata, and
// fails on any field whose JSON name or Go name suggests data about a
// private person. docs/rating.md ("Personal data") explains the rule; this
// file is its definition.

import (
	"reflect"
	"slices"
	"strings"
	"testing"
	"unicode"
)

// Stems that mark personal data wherever they occur in a name
// ("citizen_iin", "phonenumber", "date_of_birth").
var personalStems = []string{
	"citizen", "phone", "passport", "email", "birth", "surname", "patronymic", "nationality", "ethnic",
	"firstname", "lastname", "fullname", "middlename",
}

// Words that mark personal data as a whole token of a name ("home_address"
// is caught, "addressee" — a state body — is not).
var personalWords = map[string]bool{
	"iin": true, "inn": true, "tin": true, "ssn": true, "snils": true, "address": true, "addr": true, "home": true,
	"residence": true, "gender": true, "sex": true, "age": true, "dob": true, "mail": true, "applicant": true,
	"complainant": true, "petitioner": true, "voter": true, "visitor": true, "health": true, "diagnosis": true,
	"salary": true, "income": true, "religion": true, "disability": true,
}

// Words that mark a field identifying or naming a person. Such a field is
// allowed only where publicPersonFields lists it, with the reason.
var personWords = map[string]bool{
	"person": true, "actor": true, "member": true, "deputy": true, "respondent": true, "respondents": true,
	"responsible": true, "official": true, "display": true, "first": true, "last": true, "given": true,
	"family": true, "full": true, "middle": true,
}

// publicPersonFields lists, by event type and JSON path, every field that
// identifies or names a person, and why it is public. Every person in an
// event acts in a public role — an elected deputy, an official, a member
// of a public council, a writer of the ledger — and is named by an opaque
// id and, where the public needs it, a display name that the domain checks
// for contact data. No citizen ever appears: appeals and receptions are
// counts.
var publicPersonFields = map[string]map[string]string{
	metadataType: {
		"actor_id":   "an opaque id of the writer who recorded the event (an officer, a deputy, a council member, an administrator)",
		"actor_role": "the role the writer acted in (officer, admin, …): names no one",
	},
	TypeRoadmapResponsibleAssigned: {
		"person_id":    "an opaque id of a responsible deputy or official",
		"display_name": "the public name of a responsible deputy or official",
	},
	TypeRoadmapResponsibleUnassigned: {"person_id": "an opaque id of a responsible deputy or official"},
	TypeIndicatorAdded:               {"responsible_id": "an opaque id of the responsible official"},
	TypeIndicatorResponsibleAssigned: {"person_id": "an opaque id of the responsible official"},
	TypeCouncilMemberJoined: {
		"member_id":    "an opaque id of a member of a public council",
		"display_name": "the public name a council member chose to act under",
	},
	TypeCouncilMemberLeft:             {"member_id": "an opaque id of a member of a public council"},
	TypeRecommendationDissentAttached: {"member_id": "an opaque id of the dissenting council member"},
	TypeAssessmentRecorded:            {"respondents": "opaque ids of the responsible deputies and officials who may reply"},
	TypeAssessmentReplied:             {"respondent_id": "an opaque id of the replying deputy or official"},
	TypeDeputyRegistered: {
		"deputy_id":    "an opaque id of an elected deputy",
		"display_name": "the public name of an elected deputy",
	},
	TypeDeputyFactionJoined:          {"deputy_id": "an opaque id of an elected deputy"},
	TypeDeputyFactionLeft:            {"deputy_id": "an opaque id of an elected deputy"},
	TypeDeputyResponsibilityAssigned: {"deputy_id": "an opaque id of an elected deputy"},
	TypeDeputyResponsibilityReleased: {"deputy_id": "an opaque id of an elected deputy"},
	TypeDeputyActivityReported:       {"deputy_id": "an opaque id of an elected deputy"},
	TypeDeputyActivityCorrected:      {"deputy_id": "an opaque id of an elected deputy"},
	TypeDeputyRatingReplied:          {"deputy_id": "an opaque id of the elected deputy whose own reply this is"},
}

const metadataType = "(metadata)"

// field is one leaf or branch of an event's JSON shape.
type field struct {
	path   string // JSON path, dotted
	goName string
}

// fieldsOf walks the exported fields of t as encoding/json sees them:
// embedded structs without a tag are flattened, others nest; slices,
// arrays, maps and pointers are looked through.
func fieldsOf(t reflect.Type, prefix string, seen map[reflect.Type]bool) []field {
	for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice || t.Kind() == reflect.Array || t.Kind() == reflect.Map {
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct || seen[t] || t.PkgPath() == "time" {
		return nil
	}
	seen[t] = true
	defer delete(seen, t)
	var out []field
	for i := range t.NumField() {
		sf := t.Field(i)
		if !sf.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(sf.Tag.Get("json"), ",")
		if name == "-" {
			continue
		}
		if sf.Anonymous && name == "" {
			out = append(out, fieldsOf(sf.Type, prefix, seen)...)
			continue
		}
		if name == "" {
			name = sf.Name
		}
		path := prefix + name
		out = append(out, field{path: path, goName: sf.Name})
		out = append(out, fieldsOf(sf.Type, path+".", seen)...)
	}
	return out
}

// tokens splits a JSON name on '_' and '.' and a Go name at case changes,
// lower-cased.
func tokens(f field) []string {
	var out []string
	leaf := f.path[strings.LastIndex(f.path, ".")+1:]
	out = append(out, strings.FieldsFunc(strings.ToLower(leaf), func(r rune) bool { return r == '_' || r == '-' })...)
	var cur []rune
	for i, r := range f.goName {
		if i > 0 && unicode.IsUpper(r) && len(cur) > 0 && !unicode.IsUpper(cur[len(cur)-1]) {
			out = append(out, strings.ToLower(string(cur)))
			cur = cur[:0]
		}
		cur = append(cur, r)
	}
	return append(out, strings.ToLower(string(cur)))
}

// personalDataProblem says what is wrong with a field of an event type, or
// "" when nothing is.
func personalDataProblem(typ string, f field) string {
	toks := tokens(f)
	joined := strings.Join(toks, "")
	for _, stem := range personalStems {
		if strings.Contains(joined, stem) || strings.Contains(strings.ToLower(f.path), stem) {
			return "suggests a citizen's personal data (" + stem + ")"
		}
	}
	for _, tok := range toks {
		if personalWords[tok] {
			return "suggests a citizen's personal data (" + tok + ")"
		}
	}
	names := slices.ContainsFunc(toks, func(t string) bool { return personWords[t] }) ||
		(slices.Contains(toks, "name") && slices.ContainsFunc(toks, func(t string) bool { return t != "name" && personWords[t] }))
	if !names {
		return ""
	}
	if _, ok := publicPersonFields[typ][f.path]; ok {
		return ""
	}
	return "identifies or names a person: if the person acts in a public role, list the field in publicPersonFields with the reason; a citizen never"
}

// eventShapes returns the Go type of every readable event type, retired
// shapes included, and of the stored metadata.
func eventShapes(t *testing.T) map[string]reflect.Type {
	t.Helper()
	out := map[string]reflect.Type{metadataType: reflect.TypeFor[metaJSON]()}
	for typ, decode := range decoders {
		ev, err := decode([]byte(`{}`))
		if err != nil {
			t.Fatalf("decode an empty %s: %v", typ, err)
		}
		out[typ] = reflect.TypeOf(ev)
	}
	// Retired shapes, which upcasters read: list each here.
	retired := map[string]reflect.Type{TypeProgressReportedV0: reflect.TypeFor[progressReportedV0]()}
	for typ := range upcasters {
		rt, ok := retired[typ]
		if !ok {
			t.Fatalf("retired type %s: add its stored shape to the personal-data test", typ)
		}
		out[typ] = rt
	}
	return out
}

func TestNoCitizenPersonalDataInEvents(t *testing.T) {
	t.Parallel()
	used := map[string]map[string]bool{}
	for typ, rt := range eventShapes(t) {
		for _, f := range fieldsOf(rt, "", map[reflect.Type]bool{}) {
			if p := personalDataProblem(typ, f); p != "" {
				t.Errorf("%s field %s (%s): %s", typ, f.path, f.goName, p)
			}
			if _, ok := publicPersonFields[typ][f.path]; ok {
				if used[typ] == nil {
					used[typ] = map[string]bool{}
				}
				used[typ][f.path] = true
			}
		}
	}
	// An allowance for a field that no longer exists is a stale promise.
	for typ, fields := range publicPersonFields {
		for path := range fields {
			if !used[typ][path] {
				t.Errorf("publicPersonFields lists %s %s, which no event has", typ, path)
			}
		}
	}
}

// TestPersonalDataRuleCatches proves the rule on shapes that break it.
func TestPersonalDataRuleCatches(t *testing.T) {
	t.Parallel()
	type inner struct {
		Street string `json:"home_address"`
	}
	type bad struct {
		CitizenIIN  string `json:"citizen_iin"`
		Phone       string `json:"contact"`
		DateOfBirth string `json:"dob"`
		Where       inner  `json:"where"`
		Name        string `json:"applicant_name"`
		Shown       string `json:"display_name"`
		Person      string `json:"person_id"`
		Mail        string `json:"e_mail"`
		IIN         string `json:"iin"`
	}
	type good struct {
		Name      Text      `json:"name"`
		Addressee StateBody `json:"addressee"`
		People    int       `json:"people_received"`
		Appeals   int       `json:"appeals_handled"`
	}
	flagged := map[string]bool{}
	for _, f := range fieldsOf(reflect.TypeFor[bad](), "", map[reflect.Type]bool{}) {
		if personalDataProblem("test.bad.v1", f) != "" {
			flagged[f.path] = true
		}
	}
	for _, want := range []string{"citizen_iin", "contact", "dob", "where.home_address", "applicant_name", "display_name", "person_id", "e_mail", "iin"} {
		if !flagged[want] {
			t.Errorf("the rule misses %s", want)
		}
	}
	for _, f := range fieldsOf(reflect.TypeFor[good](), "", map[reflect.Type]bool{}) {
		if p := personalDataProblem("test.good.v1", f); p != "" {
			t.Errorf("the rule flags %s: %s", f.path, p)
		}
	}
	// The allowance is per event type: display_name elsewhere is flagged.
	if personalDataProblem(TypeCouncilRegistered, field{path: "display_name", goName: "DisplayName"}) == "" {
		t.Error("display_name is allowed only where listed")
	}
}
