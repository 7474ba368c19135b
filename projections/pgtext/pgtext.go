// Package pgtext puts the text of stored events into a form PostgreSQL's
// text and jsonb types can hold, for read models. The event log keeps the
// exact bytes (its data is bytea, and leaf hashes cover those bytes); only
// read models show the escaped form.
//
// PostgreSQL refuses three things the log may hold: U+0000 (in text, and as
// \u0000 in jsonb), bytes that are not UTF-8, and (in jsonb) escapes of lone
// UTF-16 surrogates. Each is written with the mark ␀ (U+2400, SYMBOL FOR
// NULL) followed by one character that says what it stands for:
//
//	␀0      U+0000
//	␀xHH    the byte 0xHH of invalid UTF-8 (two upper-case hex digits)
//	␀uHHHH  the lone surrogate \uHHHH of a JSON string (upper-case hex)
//	␀␀      the mark itself
//
// Everything else is kept as it is, so ordinary text — backslashes and all —
// reads the same in the log and in read models, and the form is reversible
// (Unescape): two different texts never look the same.
package pgtext

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Mark starts every escape.
const Mark = '\u2400'

const markUTF8 = "\u2400"

// String returns s in escaped form. Text that needs no escape is returned as
// it is, without allocating.
func String(s string) string {
	if !needsEscape(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 16)
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			fmt.Fprintf(&b, "%sx%02X", markUTF8, s[i])
		case r == 0:
			b.WriteString(markUTF8 + "0")
		case r == Mark:
			b.WriteString(markUTF8 + markUTF8)
		default:
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String()
}

func needsEscape(s string) bool {
	return !utf8.ValidString(s) || strings.IndexByte(s, 0) >= 0 || strings.Contains(s, markUTF8)
}

// JSON returns a JSON document whose strings are in escaped form: decoding
// it gives the escaped form of each string the original held, where a
// decoder would otherwise turn invalid UTF-8 and lone surrogates into
// U+FFFD and keep U+0000, which jsonb refuses. A document that needs no
// escape is returned as it is. Bytes outside strings are copied unchanged,
// so malformed JSON stays malformed and fails to decode as before.
func JSON(doc []byte) []byte {
	if utf8.Valid(doc) && !bytes.Contains(doc, []byte(`\u`)) && !bytes.Contains(doc, []byte(markUTF8)) {
		return doc
	}
	out := make([]byte, 0, len(doc)+16)
	inString := false
	for i := 0; i < len(doc); {
		c := doc[i]
		if !inString {
			out = append(out, c)
			inString = c == '"'
			i++
			continue
		}
		switch {
		case c == '"':
			out = append(out, c)
			inString = false
			i++
		case c == '\\':
			i = escapeSequence(doc, i, &out)
		default:
			r, size := utf8.DecodeRune(doc[i:])
			switch {
			case r == utf8.RuneError && size == 1:
				out = fmt.Appendf(out, "%sx%02X", markUTF8, c)
			case r == Mark:
				out = append(out, markUTF8+markUTF8...)
			default:
				out = append(out, doc[i:i+size]...)
			}
			i += size
		}
	}
	return out
}

// escapeSequence copies the backslash escape at doc[i], escaping what
// PostgreSQL cannot hold, and returns the index after it.
func escapeSequence(doc []byte, i int, out *[]byte) int {
	if i+1 >= len(doc) {
		*out = append(*out, doc[i:]...)
		return len(doc)
	}
	if doc[i+1] != 'u' {
		*out = append(*out, doc[i:i+2]...)
		return i + 2
	}
	u, ok := hex4(doc, i+2)
	if !ok {
		*out = append(*out, doc[i:i+2]...) // malformed: left for the decoder to refuse
		return i + 2
	}
	switch {
	case u == 0:
		*out = append(*out, markUTF8+"0"...)
	case u == Mark:
		*out = append(*out, markUTF8+markUTF8...)
	case u >= 0xD800 && u <= 0xDBFF:
		if i+7 < len(doc) && doc[i+6] == '\\' && doc[i+7] == 'u' {
			if lo, ok := hex4(doc, i+8); ok && lo >= 0xDC00 && lo <= 0xDFFF {
				*out = append(*out, doc[i:i+12]...) // a pair: a real character
				return i + 12
			}
		}
		*out = fmt.Appendf(*out, "%su%04X", markUTF8, u)
	case u >= 0xDC00 && u <= 0xDFFF:
		*out = fmt.Appendf(*out, "%su%04X", markUTF8, u)
	default:
		*out = append(*out, doc[i:i+6]...)
	}
	return i + 6
}

func hex4(doc []byte, at int) (rune, bool) {
	if at+4 > len(doc) {
		return 0, false
	}
	n, err := strconv.ParseUint(string(doc[at:at+4]), 16, 32)
	if err != nil {
		return 0, false
	}
	return rune(n), true
}

// Unescape reverses String: it returns the exact text (bytes) a read-model
// string stands for. A lone surrogate comes back as its WTF-8 bytes. It
// fails on a mark that starts no escape, which String never writes.
func Unescape(s string) (string, error) {
	if !strings.Contains(s, markUTF8) {
		return s, nil
	}
	var b strings.Builder
	for {
		i := strings.Index(s, markUTF8)
		if i < 0 {
			b.WriteString(s)
			return b.String(), nil
		}
		b.WriteString(s[:i])
		s = s[i+len(markUTF8):]
		switch {
		case strings.HasPrefix(s, "0"):
			b.WriteByte(0)
			s = s[1:]
		case strings.HasPrefix(s, markUTF8):
			b.WriteString(markUTF8)
			s = s[len(markUTF8):]
		case strings.HasPrefix(s, "x") && len(s) >= 3:
			n, err := strconv.ParseUint(s[1:3], 16, 8)
			if err != nil {
				return "", fmt.Errorf("pgtext: bad escape %q", markUTF8+s[:3])
			}
			b.WriteByte(byte(n))
			s = s[3:]
		case strings.HasPrefix(s, "u") && len(s) >= 5:
			n, err := strconv.ParseUint(s[1:5], 16, 16)
			if err != nil || n < 0xD800 || n > 0xDFFF {
				return "", fmt.Errorf("pgtext: bad escape %q", markUTF8+s[:5])
			}
			// WTF-8: the surrogate's three-byte form, which is not UTF-8.
			b.Write([]byte{0xE0 | byte(n>>12), 0x80 | byte(n>>6)&0x3F, 0x80 | byte(n)&0x3F})
			s = s[5:]
		default:
			return "", fmt.Errorf("pgtext: a mark that starts no escape in %q", markUTF8+s)
		}
	}
}
