package domain

import (
	"bytes"
	"encoding/json"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
)

// CheckJSONText finds, in a JSON document as received, the text that
// encoding/json would silently change while decoding it: bytes that are not
// UTF-8 and \u escapes of lone UTF-16 surrogates ("\ud800") both become
// U+FFFD, so the domain would never see that the text was damaged. It
// returns ValidationErrors naming each such string by its path in the
// document as the API names fields ("title.kk", "links.topics[2]"), or nil.
//
// Malformed JSON is not its concern: it stops at the first syntax error and
// leaves the decoder to report it.
func CheckJSONText(raw []byte) error {
	if utf8.Valid(raw) && bytes.IndexByte(raw, '\\') < 0 {
		return nil // the common case: nothing a decoder could replace
	}
	type frame struct {
		object    bool
		expectKey bool
		key       string
		index     int
	}
	var (
		v     validator
		stack []frame
	)
	path := func(frames []frame) string {
		var b []byte
		for _, f := range frames {
			if f.object {
				if len(b) > 0 {
					b = append(b, '.')
				}
				b = append(b, f.key...)
			} else {
				b = append(b, '[')
				b = strconv.AppendInt(b, int64(f.index), 10)
				b = append(b, ']')
			}
		}
		return string(b)
	}
	afterValue := func() {
		if n := len(stack); n > 0 {
			if stack[n-1].object {
				stack[n-1].expectKey = true
			} else {
				stack[n-1].index++
			}
		}
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var prev int64
	for {
		tok, err := dec.Token()
		if err != nil {
			break
		}
		end := dec.InputOffset()
		seg := raw[prev:end] // the token, with the separators before it
		prev = end
		switch t := tok.(type) {
		case json.Delim:
			switch t {
			case '{', '[':
				stack = append(stack, frame{object: t == '{', expectKey: t == '{'})
			default:
				stack = stack[:len(stack)-1]
				afterValue()
			}
		case string:
			if n := len(stack); n > 0 && stack[n-1].object && stack[n-1].expectKey {
				if p := rawStringProblem(seg); p != "" {
					v.add(path(stack[:n-1]), "a member name "+p)
				}
				stack[n-1].key, stack[n-1].expectKey = t, false
				continue
			}
			if p := rawStringProblem(seg); p != "" {
				v.add(path(stack), p)
			}
			afterValue()
		default:
			afterValue()
		}
		if len(stack) == 0 {
			break // one document; trailing data is the decoder's to refuse
		}
	}
	return v.err()
}

// rawStringProblem says what a decoder would replace in a JSON string
// literal as sent (seg may hold separators around it), or "".
func rawStringProblem(seg []byte) string {
	if !utf8.Valid(seg) {
		return "is not valid UTF-8 text"
	}
	for i := 0; i < len(seg); i++ {
		if seg[i] != '\\' {
			continue
		}
		if i+1 >= len(seg) || seg[i+1] != 'u' {
			i++ // a two-character escape
			continue
		}
		r, ok := hex4(seg, i+2)
		if !ok {
			return "" // malformed: the decoder refuses it
		}
		i += 5
		if !utf16.IsSurrogate(r) {
			continue
		}
		if r < 0xDC00 && i+6 < len(seg) && seg[i+1] == '\\' && seg[i+2] == 'u' {
			if lo, ok := hex4(seg, i+3); ok && lo >= 0xDC00 && lo <= 0xDFFF {
				i += 6 // a surrogate pair: one character
				continue
			}
		}
		return `holds a lone UTF-16 surrogate escape (\u` + strconv.FormatInt(int64(r), 16) + "), which is no character: send whole characters"
	}
	return ""
}

// hex4 reads four hexadecimal digits at seg[i:].
func hex4(seg []byte, i int) (rune, bool) {
	if i+4 > len(seg) {
		return 0, false
	}
	n, err := strconv.ParseUint(string(seg[i:i+4]), 16, 32)
	if err != nil {
		return 0, false
	}
	return rune(n), true
}
