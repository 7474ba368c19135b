package pgtext_test

import (
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"

	"promiseledger/projections/pgtext"
)

func TestStringEscapesWhatPostgreSQLCannotHold(t *testing.T) {
	for _, c := range []struct{ name, in, want string }{
		{"ordinary text is kept", "Жол картасы — C:\\path \\u0000", "Жол картасы — C:\\path \\u0000"},
		{"NUL", "a\x00b", "a␀0b"},
		{"invalid UTF-8 byte", "a\xffb", "a␀xFFb"},
		{"WTF-8 lone surrogate", "\xed\xa0\x80", "␀xED␀xA0␀x80"},
		{"the mark itself", "a␀0", "a␀␀0"},
		{"bidi controls are text PostgreSQL holds", "\u202eabc\u2066", "\u202eabc\u2066"},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := pgtext.String(c.in)
			if got != c.want {
				t.Errorf("String(%q) = %q, want %q", c.in, got, c.want)
			}
			back, err := pgtext.Unescape(got)
			if err != nil || back != c.in {
				t.Errorf("Unescape(%q) = %q, %v; want %q", got, back, err, c.in)
			}
		})
	}
}

func TestJSONEscapesStringsOnly(t *testing.T) {
	for _, c := range []struct{ name, in, want string }{
		{"no escape needed", `{"a":"b"}`, "b"},
		{"NUL escape", `{"a":"x\u0000y"}`, "x␀0y"},
		{"lone high surrogate", `{"a":"\ud800x"}`, "␀uD800x"},
		{"lone low surrogate", `{"a":"\uDC01"}`, "␀uDC01"},
		{"a surrogate pair is a character", `{"a":"\ud83d\ude00"}`, "😀"},
		{"high surrogate before a non-surrogate escape", `{"a":"\ud83d\u0041"}`, "␀uD83DA"},
		{"raw invalid byte", "{\"a\":\"x\xffy\"}", "x␀xFFy"},
		{"escaped mark", `{"a":"\u2400"}`, "␀␀"},
		{"raw mark", `{"a":"␀"}`, "␀␀"},
		{"escaped backslash before u", `{"a":"\\u0000"}`, `\u0000`},
		{"other escapes", `{"a":"\n\"\u003c"}`, "\n\"<"},
	} {
		t.Run(c.name, func(t *testing.T) {
			var got struct{ A string }
			if err := json.Unmarshal(pgtext.JSON([]byte(c.in)), &got); err != nil {
				t.Fatal(err)
			}
			if got.A != c.want {
				t.Errorf("JSON(%s) decodes to %q, want %q", c.in, got.A, c.want)
			}
		})
	}
}

func TestJSONLeavesMalformedDocumentsMalformed(t *testing.T) {
	for _, in := range []string{`{"a":"x`, `{"a":"\u00`, "{\"a\":\"\x00\"}", `{"a": \u0000}`} {
		var v any
		if json.Unmarshal(pgtext.JSON([]byte(in)), &v) == nil {
			t.Errorf("JSON(%q) became a valid document", in)
		}
	}
}

// FuzzEscapedTextFitsPostgreSQL: whatever a stored string or document
// holds, the escaped form is valid UTF-8 without NUL (what text and jsonb
// need), and the string form gives back the exact text.
func FuzzEscapedTextFitsPostgreSQL(f *testing.F) {
	for _, s := range []string{"", "a\x00b", "\xff", `\u0000`, "␀", "\xed\xa0\x80", `{"a":"\ud800"}`, `["\u0000", "␀x", "\udfff\ud800"]`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		e := pgtext.String(s)
		if !utf8.ValidString(e) || strings.IndexByte(e, 0) >= 0 {
			t.Fatalf("String(%q) = %q", s, e)
		}
		if back, err := pgtext.Unescape(e); err != nil || back != s {
			t.Fatalf("Unescape(String(%q)) = %q, %v", s, back, err)
		}
		var v any
		doc := pgtext.JSON([]byte(s))
		if json.Unmarshal(doc, &v) != nil {
			return
		}
		if !utf8.Valid(doc) || strings.Contains(string(doc), `\u0000`) {
			t.Fatalf("JSON(%q) = %q still holds what jsonb refuses", s, doc)
		}
		walkStrings(v, func(x string) {
			if !utf8.ValidString(x) || strings.IndexByte(x, 0) >= 0 {
				t.Fatalf("JSON(%q) decodes to %q", s, x)
			}
		})
	})
}

func walkStrings(v any, fn func(string)) {
	switch x := v.(type) {
	case string:
		fn(x)
	case []any:
		for _, e := range x {
			walkStrings(e, fn)
		}
	case map[string]any:
		for k, e := range x {
			fn(k)
			walkStrings(e, fn)
		}
	}
}
