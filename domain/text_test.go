package domain_test

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"

	"promiseledger/domain"
)

// hostileText is text every field refuses, by name.
var hostileText = []struct{ name, s string }{
	{"NUL", "a\x00b"},
	{"C0 escape", "a\x1b[31mb"},
	{"DEL", "a\x7fb"},
	{"C1 next line", "a\u0085b"},
	{"C1 CSI", "a\u009bb"},
	{"invalid UTF-8 byte", "a\xffb"},
	{"overlong slash", "a\xc0\xafb"},
	{"encoded lone surrogate", "a\xed\xa0\x80b"},
	{"replacement character", "a\ufffdb"},
	{"right-to-left override", "invoice\u202eFDP.exe"},
	{"left-to-right embedding", "a\u202ab"},
	{"pop directional formatting", "a\u202cb"},
	{"first strong isolate", "a\u2068b"},
	{"pop directional isolate", "a\u2069b"},
	{"1 MiB", strings.Repeat("a", 1<<20)},
}

// singleLineOnly is text multi-line fields keep and one-line fields refuse.
var singleLineOnly = []struct{ name, s string }{
	{"line feed", "a\nb"},
	{"tab", "a\tb"},
	{"line separator", "a\u2028b"},
	{"right-to-left mark", "a\u200fb"},
	{"Arabic letter mark", "a\u061cb"},
}

func TestTextRulesRefuseHostileText(t *testing.T) {
	t.Parallel()
	for _, multiline := range []bool{false, true} {
		for _, c := range hostileText {
			s := domain.CleanText(c.s, multiline)
			if err := domain.ValidateText("f", s, multiline, 8000); err == nil {
				t.Errorf("multiline=%v: %s accepted", multiline, c.name)
			} else if fe := domain.FieldErrors(err); len(fe) != 1 || fe[0].Field != "f" || !errors.Is(err, domain.ErrValidation) {
				t.Errorf("multiline=%v: %s: want one field error on f, got %v", multiline, c.name, err)
			}
		}
	}
	for _, c := range singleLineOnly {
		if err := domain.ValidateText("f", domain.CleanText(c.s, false), false, 200); err == nil {
			t.Errorf("one line: %s accepted", c.name)
		}
		if err := domain.ValidateText("f", domain.CleanText(c.s, true), true, 200); err != nil {
			t.Errorf("multi-line: %s refused: %v", c.name, err)
		}
	}
	for _, ok := range []string{"Путь перемен", "Өзгерістер жолы", "Zhol — 100 km², 5 %", "مرحبا", "emoji 🚧", "日本語"} {
		if err := domain.ValidateText("f", domain.CleanText(ok, false), false, 200); err != nil {
			t.Errorf("%q refused: %v", ok, err)
		}
	}
}

func TestCleanTextStoresNFCWithoutSurroundingSpace(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		in        string
		multiline bool
		want      string
	}{
		{"  e\u0301te\u0301  ", false, "été"},
		{"Ка\u0306зақ", false, "Кӑзақ"},
		{"line one\r\nline two\rthree", true, "line one\nline two\nthree"},
		{"\u00a0 trimmed \u3000", false, "trimmed"},
	} {
		if got := domain.CleanText(c.in, c.multiline); got != c.want {
			t.Errorf("CleanText(%q) = %q, want %q", c.in, got, c.want)
		}
	}
	// A decomposed title is stored composed, so two spellings are one value.
	p, _ := domain.RebuildProgram(nil)
	e := programRegistered
	e.Name.EN = "Cafe\u0301"
	if err := p.Register(e, whenMeta("", now)); err != nil {
		t.Fatal(err)
	}
	if got := p.Name().EN; got != "Café" || !norm.NFC.IsNormalString(got) {
		t.Errorf("stored name %q, want NFC Café", got)
	}
}

func TestCheckJSONTextNamesTheDamagedField(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name, body string
		field      string // "" means accepted
	}{
		{"invalid byte in a title", "{\"title\":{\"kk\":\"a\xffb\",\"ru\":\"x\"}}", "title.kk"},
		{"lone high surrogate", `{"title":{"kk":"ok","ru":"\ud800"}}`, "title.ru"},
		{"lone low surrogate", `{"reason":"x\udc00y"}`, "reason"},
		{"high then high", `{"reply":"\ud800\ud800"}`, "reply"},
		{"in an array", `{"links":{"topics":["a","b\udfff"]}}`, "links.topics[1]"},
		{"after nested values", `{"a":{"b":[1,{"c":2}]},"d":"\ud83d"}`, "d"},
		{"a key", "{\"ti\xfftle\":\"x\"}", ""},
		{"a surrogate pair is one character", `{"title":"\ud83d\ude00"}`, ""},
		{"an escaped backslash before u", `{"title":"\\ud800"}`, ""},
		{"replacement character escape is the domain's to judge", `{"title":"\ufffd"}`, ""},
		{"plain", `{"title":{"kk":"Жол","ru":"Дорога","en":"Road"},"n":[1,2.5,null,true]}`, ""},
		{"malformed JSON is the decoder's", `{"title":"\ud800`, ""},
	} {
		err := domain.CheckJSONText([]byte(c.body))
		fields := domain.FieldErrors(err)
		switch {
		case c.name == "a key":
			if len(fields) != 1 || fields[0].Field != "" {
				t.Errorf("%s: got %v, want one problem with the body", c.name, err)
			}
		case c.field == "" && err != nil:
			t.Errorf("%s: refused: %v", c.name, err)
		case c.field != "" && (len(fields) != 1 || fields[0].Field != c.field):
			t.Errorf("%s: got %v, want a problem with %s", c.name, err, c.field)
		}
	}
}

// textField is one text field of one command: run records the command with
// s in that field and returns the events it recorded.
type textField struct {
	command   string
	field     string
	multiline bool
	run       func(t testing.TB, s string) ([]domain.Envelope, error)
}

func rebuild[A any](t testing.TB, f func([]domain.Envelope) (A, error), events ...domain.Event) A {
	t.Helper()
	a, err := f(history(events...))
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// textFields lists every text field a person fills in, of every command.
func textFields() []textField {
	meta := whenMeta("", now)
	withText := func(base domain.Text, lang, s string) domain.Text {
		switch lang {
		case "kk":
			base.KK = s
		case "ru":
			base.RU = s
		default:
			base.EN = s
		}
		return base
	}
	var out []textField
	for _, lang := range []string{"kk", "ru", "en"} {
		out = append(out,
			textField{"register program", "name." + lang, false, func(t testing.TB, s string) ([]domain.Envelope, error) {
				p := rebuild(t, domain.RebuildProgram)
				e := programRegistered
				e.Name = withText(e.Name, lang, s)
				err := p.Register(e, meta)
				return p.Changes(), err
			}},
			textField{"register territory", "name." + lang, false, func(t testing.TB, s string) ([]domain.Envelope, error) {
				tr := rebuild(t, domain.RebuildTerritory)
				e := akmola
				e.Name = withText(e.Name, lang, s)
				err := tr.Register(e, rebuild(t, domain.RebuildTerritory, republic), meta)
				return tr.Changes(), err
			}},
			textField{"register roadmap", "title." + lang, false, func(t testing.TB, s string) ([]domain.Envelope, error) {
				r := rebuild(t, domain.RebuildRoadmap)
				e := roadmapRegistered
				e.Title = withText(e.Title, lang, s)
				err := r.Register(e, rebuild(t, domain.RebuildProgram, programRegistered), rebuild(t, domain.RebuildTerritory, akmola), meta)
				return r.Changes(), err
			}},
			textField{"add indicator", "title." + lang, false, func(t testing.TB, s string) ([]domain.Envelope, error) {
				a := rebuild(t, domain.RebuildIndicator)
				e := numericAdded
				e.Title = withText(e.Title, lang, s)
				err := a.Add(e, rebuild(t, domain.RebuildRoadmap, roadmapRegistered), meta)
				return a.Changes(), err
			}},
			textField{"add indicator", "unit." + lang, false, func(t testing.TB, s string) ([]domain.Envelope, error) {
				a := rebuild(t, domain.RebuildIndicator)
				e := numericAdded
				e.Unit = withText(e.Unit, lang, s)
				err := a.Add(e, rebuild(t, domain.RebuildRoadmap, roadmapRegistered), meta)
				return a.Changes(), err
			}},
			textField{"register council", "name." + lang, false, func(t testing.TB, s string) ([]domain.Envelope, error) {
				c := rebuild(t, domain.RebuildCouncil)
				e := councilRegistered
				e.Name = withText(e.Name, lang, s)
				err := c.Register(e, rebuild(t, domain.RebuildTerritory, akmola), meta)
				return c.Changes(), err
			}},
			textField{"draft recommendation", "title." + lang, false, draftWith(func(e *domain.RecommendationDrafted, s string) { e.Title = withText(e.Title, lang, s) })},
			textField{"draft recommendation", "proposal." + lang, true, draftWith(func(e *domain.RecommendationDrafted, s string) { e.Proposal = withText(e.Proposal, lang, s) })},
			textField{"draft recommendation", "addressee.name." + lang, false, draftWith(func(e *domain.RecommendationDrafted, s string) {
				e.Addressee.Name = withText(e.Addressee.Name, lang, s)
			})},
			textField{"publish rating method", "title." + lang, false, func(t testing.TB, s string) ([]domain.Envelope, error) {
				r := rebuild(t, domain.RebuildRatingMethod)
				e := ratingV1
				e.Title = withText(e.Title, lang, s)
				err := r.Publish(e, meta)
				return r.Changes(), err
			}},
			textField{"publish rating method", "formula.components[0].title." + lang, false, func(t testing.TB, s string) ([]domain.Envelope, error) {
				r := rebuild(t, domain.RebuildRatingMethod)
				e := ratingV1
				e.Formula.Components = slices.Clone(e.Formula.Components)
				e.Formula.Components[0].Title = withText(e.Formula.Components[0].Title, lang, s)
				err := r.Publish(e, meta)
				return r.Changes(), err
			}},
		)
	}
	report := func(ev domain.Evidence) func(t testing.TB) ([]domain.Envelope, error) {
		return func(t testing.TB) ([]domain.Envelope, error) {
			a := rebuild(t, domain.RebuildIndicator, numericAdded)
			err := a.ReportProgress(domain.Reading{Value: num(20)}, ev, meta)
			return a.Changes(), err
		}
	}
	out = append(out,
		textField{"any command", "reason", true, func(t testing.TB, s string) ([]domain.Envelope, error) {
			a := rebuild(t, domain.RebuildIndicator, numericAdded)
			err := a.Cancel(whenMeta(s, now))
			return a.Changes(), err
		}},
		textField{"any command", "actor_id", false, func(t testing.TB, s string) ([]domain.Envelope, error) {
			p := rebuild(t, domain.RebuildProgram)
			m := meta
			m.ActorID = s
			err := p.Register(programRegistered, m)
			return p.Changes(), err
		}},
		textField{"any command", "actor_role", false, func(t testing.TB, s string) ([]domain.Envelope, error) {
			p := rebuild(t, domain.RebuildProgram)
			m := meta
			m.ActorRole = s
			err := p.Register(programRegistered, m)
			return p.Changes(), err
		}},
		textField{"assign roadmap responsible", "person_id", false, func(t testing.TB, s string) ([]domain.Envelope, error) {
			r := rebuild(t, domain.RebuildRoadmap, roadmapRegistered)
			err := r.AssignResponsible(domain.Responsible{PersonID: s, Role: domain.RoleOfficial, DisplayName: "Аким"}, meta)
			return r.Changes(), err
		}},
		textField{"assign roadmap responsible", "display_name", false, func(t testing.TB, s string) ([]domain.Envelope, error) {
			r := rebuild(t, domain.RebuildRoadmap, roadmapRegistered)
			err := r.AssignResponsible(domain.Responsible{PersonID: "official-9", Role: domain.RoleOfficial, DisplayName: s}, meta)
			return r.Changes(), err
		}},
		textField{"add indicator", "responsible_id", false, func(t testing.TB, s string) ([]domain.Envelope, error) {
			a := rebuild(t, domain.RebuildIndicator)
			e := milestoneAdded
			e.ResponsibleID = s
			err := a.Add(e, rebuild(t, domain.RebuildRoadmap, roadmapRegistered), meta)
			return a.Changes(), err
		}},
		textField{"assign indicator responsible", "person_id", false, func(t testing.TB, s string) ([]domain.Envelope, error) {
			a := rebuild(t, domain.RebuildIndicator, numericAdded)
			err := a.AssignResponsible(s, meta)
			return a.Changes(), err
		}},
		textField{"report progress", "evidence.url", false, func(t testing.TB, s string) ([]domain.Envelope, error) {
			return report(domain.Evidence{URL: "https://example.kz/" + s})(t)
		}},
		textField{"report progress", "evidence.description", true, func(t testing.TB, s string) ([]domain.Envelope, error) {
			return report(domain.Evidence{URL: evidence.URL, Description: s})(t)
		}},
		textField{"join council", "display_name", false, func(t testing.TB, s string) ([]domain.Envelope, error) {
			c := rebuild(t, domain.RebuildCouncil, councilRegistered)
			err := c.Join(domain.CouncilMember{MemberID: "member-9", Role: domain.MemberMember, DisplayName: s}, meta)
			return c.Changes(), err
		}},
		textField{"acknowledge recommendation", "reference", false, func(t testing.TB, s string) ([]domain.Envelope, error) {
			r := rebuild(t, domain.RebuildRecommendation, drafted, submitted)
			err := r.Acknowledge(s, meta)
			return r.Changes(), err
		}},
		textField{"answer recommendation", "reply", true, func(t testing.TB, s string) ([]domain.Envelope, error) {
			r := rebuild(t, domain.RebuildRecommendation, drafted, submitted)
			err := r.Answer(domain.Answer{Decision: domain.DecisionAccepted, Reply: s, Evidence: letter}, meta)
			return r.Changes(), err
		}},
		textField{"answer recommendation", "evidence.description", true, func(t testing.TB, s string) ([]domain.Envelope, error) {
			r := rebuild(t, domain.RebuildRecommendation, drafted, submitted)
			err := r.Answer(domain.Answer{Decision: domain.DecisionAccepted, Reply: "Yes.", Evidence: domain.Evidence{URL: letter.URL, Description: s}}, meta)
			return r.Changes(), err
		}},
		textField{"judge recommendation", "comment", true, func(t testing.TB, s string) ([]domain.Envelope, error) {
			r := rebuild(t, domain.RebuildRecommendation, drafted, submitted, answered)
			err := r.Judge(domain.Judgement{Verdict: domain.VerdictImplemented, Comment: s}, rebuild(t, domain.RebuildCouncil, councilRegistered, actorJoined, otherJoined), meta)
			return r.Changes(), err
		}},
		textField{"attach dissent", "opinion", true, func(t testing.TB, s string) ([]domain.Envelope, error) {
			r := rebuild(t, domain.RebuildRecommendation, drafted, submitted)
			err := r.AttachDissent("member-2", s, rebuild(t, domain.RebuildCouncil, councilRegistered, actorJoined, otherJoined), meta)
			return r.Changes(), err
		}},
		textField{"record assessment", "comment", true, func(t testing.TB, s string) ([]domain.Envelope, error) {
			a := rebuild(t, domain.RebuildAssessment)
			ind, err := domain.FoldIndicator(history(numericAdded), nil)
			if err != nil {
				t.Fatal(err)
			}
			err = a.Record(domain.AssessmentInput{AssessmentID: assessmentID, CouncilID: councilID, IndicatorID: indicatorID,
				Position: domain.PositionAgree, Comment: s}, rebuild(t, domain.RebuildCouncil, councilRegistered, actorJoined, otherJoined),
				ind, rebuild(t, domain.RebuildRoadmap, roadmapRegistered), meta)
			return a.Changes(), err
		}},
		textField{"reply to assessment", "reply", true, func(t testing.TB, s string) ([]domain.Envelope, error) {
			a := rebuild(t, domain.RebuildAssessment, domain.AssessmentRecorded{AssessmentID: assessmentID, CouncilID: councilID,
				IndicatorID: indicatorID, RoadmapID: roadmapID, ReportedStatus: domain.StatusNotStarted, Position: domain.PositionAgree,
				Comment: "fine", Respondents: []string{"deputy-1"}})
			err := a.Reply("deputy-1", s, domain.Evidence{}, meta)
			return a.Changes(), err
		}},
		textField{"register deputy", "display_name", false, func(t testing.TB, s string) ([]domain.Envelope, error) {
			d := rebuild(t, domain.RebuildDeputy)
			e := deputyRegistered
			e.DisplayName = s
			err := d.Register(e, rebuild(t, domain.RebuildTerritory, akmola), meta)
			return d.Changes(), err
		}},
		textField{"publish rating method", "summary", true, func(t testing.TB, s string) ([]domain.Envelope, error) {
			r := rebuild(t, domain.RebuildRatingMethod)
			e := ratingV1
			e.Summary = s
			err := r.Publish(e, meta)
			return r.Changes(), err
		}},
	)
	return out
}

func draftWith(edit func(*domain.RecommendationDrafted, string)) func(t testing.TB, s string) ([]domain.Envelope, error) {
	return func(t testing.TB, s string) ([]domain.Envelope, error) {
		r := rebuild(t, domain.RebuildRecommendation)
		e := drafted
		edit(&e, s)
		c := rebuild(t, domain.RebuildCouncil, councilRegistered, actorJoined, otherJoined)
		err := r.Draft(e, c, refs, whenMeta("", now))
		return r.Changes(), err
	}
}

// TestEveryTextFieldRefusesHostileText: every text field of every command
// refuses NUL, control characters, invalid UTF-8, U+FFFD, bidirectional
// overrides and 1 MiB, naming the field and recording nothing; one-line
// fields refuse line breaks too.
func TestEveryTextFieldRefusesHostileText(t *testing.T) {
	t.Parallel()
	for _, f := range textFields() {
		// The field accepts ordinary text, so a refusal below is the text's.
		if _, err := f.run(t, "Обычный текст"); err != nil {
			t.Fatalf("%s %s refuses ordinary text: %v", f.command, f.field, err)
		}
		cases := hostileText
		if !f.multiline {
			cases = append(slices.Clone(hostileText), singleLineOnly...)
		}
		for _, c := range cases {
			events, err := f.run(t, c.s)
			if err == nil || len(events) > 0 {
				t.Errorf("%s %s = %s: recorded %d events, err %v", f.command, f.field, c.name, len(events), err)
				continue
			}
			if !slices.ContainsFunc(domain.FieldErrors(err), func(e *domain.ValidationError) bool { return e.Field == f.field }) {
				t.Errorf("%s %s = %s: the error does not name the field: %v", f.command, f.field, c.name, err)
			}
			if msg := err.Error(); !utf8.ValidString(msg) || len(msg) > 4096 {
				t.Errorf("%s %s = %s: the error echoes the text (%d bytes)", f.command, f.field, c.name, len(msg))
			}
		}
	}
}
