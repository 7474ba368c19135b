package domain

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// Text rules. Every text a person gives the ledger (names, titles,
// descriptions, reasons, comments, URLs, ids that are not UUIDs or slugs)
// passes cleanText and then validateText before it enters an event, so that
// what the log holds can always be stored, shown and searched by every read
// model, and displays as what it says. docs/events.md ("Text rules") is the
// user-facing statement of these rules; keep both in step.
//
//   - valid UTF-8, and no U+FFFD: the replacement character is what a
//     decoder leaves behind when it met bytes or a lone UTF-16 surrogate it
//     could not read, so the text was damaged before it got here;
//   - no C0 or C1 control character (U+0000–U+001F, U+007F–U+009F), except
//     tab and line feed in multi-line text (a CR LF or lone CR becomes LF);
//   - no bidirectional embedding, override or isolate (U+202A–U+202E,
//     U+2066–U+2069): they make a title display as something else;
//   - in single-line text also no line or paragraph separator (U+2028,
//     U+2029) and no invisible direction mark (U+200E LRM, U+200F RLM,
//     U+061C ALM): names, titles, ids and URLs are compared and shown on
//     one line, where an invisible mark makes two different values look the
//     same. Multi-line prose keeps the marks, which right-to-left quotations
//     need and which cannot reorder text the way overrides do;
//   - Unicode NFC, leading and trailing white space removed;
//   - at most a given number of characters (code points after NFC).

// Limits on text, in characters, so that an event stays a record and not a
// document. docs/events.md lists which field has which.
const (
	maxDisplayName = 120  // a person's public name
	maxShortText   = 200  // short titles, references, evidence descriptions, ids
	maxTitle       = 500  // names and titles of programs, territories, roadmaps, measures, units, councils
	maxReason      = 2000 // the reason in an event's metadata
	maxURL         = 2048 // an evidence URL
	maxLongText    = 8000 // proposals, replies, comments, opinions, summaries
)

// cleanText is the normal form the ledger stores: for multi-line text CR LF
// and lone CR become LF; then NFC and white space trimmed at both ends.
// Text that is not valid UTF-8 is only trimmed, for validateText to refuse.
func cleanText(s string, multiline bool) string {
	if !utf8.ValidString(s) {
		return strings.TrimSpace(s)
	}
	if multiline && strings.IndexByte(s, '\r') >= 0 {
		s = strings.ReplaceAll(strings.ReplaceAll(s, "\r\n", "\n"), "\r", "\n")
	}
	// Trimming can expose a combining mark at the start, and NFC can in
	// principle produce white space at an end: repeat until stable (twice
	// at most in practice) so that cleaning is idempotent.
	for range 3 {
		t := strings.TrimSpace(norm.NFC.String(s))
		if t == s {
			break
		}
		s = t
	}
	return s
}

// textProblem says why s breaks the text rules, or "" when it keeps them.
// Only the first problem is named, so a 1 MiB string of NUL gives one line.
func textProblem(s string, multiline bool, max int) string {
	if !utf8.ValidString(s) {
		return "is not valid UTF-8 text"
	}
	n := 0
	for _, r := range s {
		n++
		if p := runeProblem(r, multiline); p != "" {
			return fmt.Sprintf("%s at character %d", p, n)
		}
	}
	if max > 0 && n > max {
		return fmt.Sprintf("is longer than %d characters", max)
	}
	if !norm.NFC.IsNormalString(s) {
		return "is not in Unicode normal form C (NFC)"
	}
	return ""
}

// runeProblem says why r may not appear in text, or "".
func runeProblem(r rune, multiline bool) string {
	switch {
	case r == '\t' || r == '\n':
		if multiline {
			return ""
		}
		return fmt.Sprintf("contains a tab or line break (U+%04X); this field is one line", r)
	case r < 0x20 || (r >= 0x7F && r <= 0x9F):
		return fmt.Sprintf("contains the control character U+%04X", r)
	case r == utf8.RuneError:
		return "contains U+FFFD, the replacement character: the text was damaged (invalid UTF-8 or a lone UTF-16 surrogate) before it got here; send the original"
	case (r >= 0x202A && r <= 0x202E) || (r >= 0x2066 && r <= 0x2069):
		return fmt.Sprintf("contains the bidirectional formatting character U+%04X, which can make text display as something else", r)
	case !multiline && (r == 0x2028 || r == 0x2029):
		return fmt.Sprintf("contains a line or paragraph separator (U+%04X); this field is one line", r)
	case !multiline && (r == 0x200E || r == 0x200F || r == 0x061C):
		return fmt.Sprintf("contains the invisible direction mark U+%04X; this field is one line and must read as it looks", r)
	}
	return ""
}

// validateText is the one check every text field of the domain goes
// through: s, already cleaned, keeps the text rules. It reports whether it
// does, so callers add their own checks (required, contact data) only to
// text that is sound.
func validateText(v *validator, field, s string, multiline bool, max int) bool {
	if p := textProblem(s, multiline, max); p != "" {
		v.add(field, p)
		return false
	}
	return true
}

// ValidateText checks s against the text rules the domain applies to its
// fields, for entry points that hold text outside a command (importers,
// tests): single-line or multi-line, at most maxChars characters (no limit
// when 0). It checks s as given: clean it first with CleanText.
func ValidateText(field, s string, multiline bool, maxChars int) error {
	var v validator
	validateText(&v, field, s, multiline, maxChars)
	return v.err()
}

// CleanText returns s in the form the domain stores text: for multi-line
// text line breaks as LF; NFC; no white space at either end.
func CleanText(s string, multiline bool) string { return cleanText(s, multiline) }
