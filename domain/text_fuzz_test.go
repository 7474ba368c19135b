package domain_test

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"

	"promiseledger/domain"
)

// allowedRune is the text rules written out a second time, independently of
// domain/text.go, as the oracle of the fuzz targets.
func allowedRune(r rune, multiline bool) bool {
	switch {
	case r == '\t' || r == '\n':
		return multiline
	case r < 0x20, r >= 0x7F && r <= 0x9F, r == 0xFFFD:
		return false
	case r >= 0x202A && r <= 0x202E, r >= 0x2066 && r <= 0x2069:
		return false
	case r == 0x2028, r == 0x2029, r == 0x200E, r == 0x200F, r == 0x061C:
		return multiline
	}
	return true
}

func keepsTextRules(s string, multiline bool) bool {
	if !utf8.ValidString(s) || !norm.NFC.IsNormalString(s) || s != strings.TrimSpace(s) {
		return false
	}
	for _, r := range s {
		if !allowedRune(r, multiline) {
			return false
		}
	}
	return true
}

// FuzzTextRules: cleaning is idempotent, and cleaned text is accepted
// exactly when it is valid UTF-8 in NFC without a forbidden character.
func FuzzTextRules(f *testing.F) {
	for _, c := range hostileText {
		f.Add(c.s, false)
		f.Add(c.s, true)
	}
	for _, c := range singleLineOnly {
		f.Add(c.s, false)
		f.Add(c.s, true)
	}
	f.Add(" e\u0301 \r\n", true)
	f.Add("\u0301a", false)
	f.Fuzz(func(t *testing.T, s string, multiline bool) {
		c := domain.CleanText(s, multiline)
		if again := domain.CleanText(c, multiline); again != c {
			t.Fatalf("CleanText is not idempotent: %q → %q → %q", s, c, again)
		}
		err := domain.ValidateText("f", c, multiline, 0)
		if want := keepsTextRules(c, multiline); (err == nil) != want {
			t.Fatalf("ValidateText(%q, multiline=%v) = %v, but the rules say accepted=%v", c, multiline, err, want)
		}
		if err == nil && domain.ValidateText("f", domain.CleanText(c, multiline), multiline, 0) != nil {
			t.Fatalf("%q accepted once, refused on re-validation", c)
		}
	})
}

// FuzzTextFieldsOfCommands puts the input in every text field of every
// command (textFields). Whatever a command accepts must be an event the
// codec writes and reads back unchanged, whose every string keeps the text
// rules, so that every projector can store it.
func FuzzTextFieldsOfCommands(f *testing.F) {
	for _, c := range hostileText {
		f.Add(c.s)
	}
	for _, c := range singleLineOnly {
		f.Add(c.s)
	}
	f.Add("Өзгерістер жолы")
	f.Add("  Cafe\u0301\r\nline  ")
	fields := textFields()
	f.Fuzz(func(t *testing.T, s string) {
		for _, field := range fields {
			events, err := field.run(t, s)
			if err != nil {
				if len(events) > 0 {
					t.Fatalf("%s %s: refused (%v) but recorded %d events", field.command, field.field, err, len(events))
				}
				continue
			}
			for _, env := range events {
				checkStoredText(t, field.command+" "+field.field, env)
			}
		}
	})
}

// checkStoredText encodes env, decodes it back, and checks that the codec
// round trip is exact and that every string of data and metadata keeps the
// text rules (of multi-line text, the looser kind).
func checkStoredText(t *testing.T, what string, env domain.Envelope) {
	t.Helper()
	typ, data, meta, err := domain.Encode(env.Event, env.Meta)
	if err != nil {
		t.Fatalf("%s: encode: %v", what, err)
	}
	ev, m, err := domain.Decode(typ, data, meta)
	if err != nil {
		t.Fatalf("%s: decode: %v", what, err)
	}
	typ2, data2, meta2, err := domain.Encode(ev, m)
	if err != nil || typ2 != typ || !bytes.Equal(data2, data) || !bytes.Equal(meta2, meta) {
		t.Fatalf("%s: the codec round trip changed the event:\n%s\n%s", what, data, data2)
	}
	for _, raw := range [][]byte{data, meta} {
		if err := domain.CheckJSONText(raw); err != nil {
			t.Fatalf("%s: stored JSON has damaged text: %v", what, err)
		}
		var v any
		if err := json.Unmarshal(raw, &v); err != nil {
			t.Fatal(err)
		}
		walkStrings(v, func(s string) {
			if !keepsTextRules(s, true) {
				t.Fatalf("%s: stored string %q breaks the text rules", what, s)
			}
		})
	}
}

func walkStrings(v any, fn func(string)) {
	switch v := v.(type) {
	case string:
		fn(v)
	case []any:
		for _, e := range v {
			walkStrings(e, fn)
		}
	case map[string]any:
		for k, e := range v {
			fn(k)
			walkStrings(e, fn)
		}
	}
}

// FuzzCheckJSONText: a document CheckJSONText passes decodes without the
// decoder inventing a U+FFFD: every decoded string is valid UTF-8 and holds
// no more U+FFFD than the document spelled out.
func FuzzCheckJSONText(f *testing.F) {
	for _, seed := range []string{
		`{"title":{"kk":"a","ru":"\ud800","en":"\udc00"}}`,
		`{"a":["\ud83d\ude00","\\ud800",1,null,{"b":"\ufffd"}]}`,
		"{\"a\":\"\xff\xfe\"}",
		`{"reason":"a\u0000b"}`,
		`{"title":"\u202eexe.pdf"}`,
		`[{"x":"\ud800\ud800"}]`,
	} {
		f.Add([]byte(seed))
	}
	f.Add([]byte(`{"description":"` + strings.Repeat(`\ud800`, 1<<17) + `"}`)) // 768 KiB of lone surrogates
	f.Fuzz(func(t *testing.T, raw []byte) {
		if domain.CheckJSONText(raw) != nil {
			return
		}
		var v any
		if json.Unmarshal(raw, &v) != nil {
			return
		}
		spelled := bytes.Count(raw, []byte("\ufffd")) + bytes.Count(bytes.ToLower(raw), []byte(`\ufffd`))
		got := 0
		walkStrings(v, func(s string) {
			if !utf8.ValidString(s) {
				t.Fatalf("decoded invalid UTF-8 %q", s)
			}
			got += strings.Count(s, "\ufffd")
		})
		if got > spelled {
			t.Fatalf("CheckJSONText passed %q, which decodes with %d U+FFFD where %d were sent", raw, got, spelled)
		}
	})
}
