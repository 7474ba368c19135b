package kernel

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"

	"promiseledger/domain"
)

// ReadLimited reads a request body of at most max bytes: a larger one is
// 413, an unreadable one 400.
func ReadLimited(w http.ResponseWriter, r *http.Request, max int64) ([]byte, error) {
	tooLarge := New(http.StatusRequestEntityTooLarge, SlugBodyTooLarge, "Request body too large",
		fmt.Sprintf("a request body may have at most %d bytes", max))
	if r.ContentLength > max {
		return nil, tooLarge
	}
	raw, err := io.ReadAll(http.MaxBytesReader(w, r.Body, max))
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &mbe):
		return nil, tooLarge
	case err != nil:
		return nil, New(http.StatusBadRequest, SlugMalformedBody, "Unreadable request body", err.Error())
	}
	return raw, nil
}

// ReadBody reads a JSON request body within max bytes. An empty body is
// allowed (it means {}); any other must be sent as JSON (415).
func ReadBody(w http.ResponseWriter, r *http.Request, max int64) ([]byte, error) {
	raw, err := ReadLimited(w, r, max)
	if err != nil {
		return nil, err
	}
	if len(bytes.TrimSpace(raw)) > 0 && !isJSON(r.Header.Get("Content-Type")) {
		return nil, New(http.StatusUnsupportedMediaType, SlugUnsupportedMedia, "Unsupported media type",
			"send the body as application/json")
	}
	return raw, nil
}

func isJSON(contentType string) bool {
	mt, _, err := mime.ParseMediaType(contentType)
	return err == nil && (mt == "application/json" || strings.HasSuffix(mt, "+json"))
}

// DecodeStrict reads one JSON object into v, refusing unknown fields,
// values of the wrong JSON type and trailing data (400). An empty body
// leaves v zero, for the domain to say what is missing (422). Text the
// decoder would silently turn into U+FFFD (invalid UTF-8, a lone surrogate
// escape, NUL) is refused first, with 422 naming the field.
func DecodeStrict(raw []byte, v any) error {
	if len(bytes.TrimSpace(raw)) == 0 {
		return nil
	}
	if err := domain.CheckJSONText(raw); err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return malformed(err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return New(http.StatusBadRequest, SlugMalformedBody, "Malformed JSON body", "the body holds more than one JSON value")
	}
	return nil
}

// DecodeBody reads and strictly decodes a JSON body into v, returning the
// raw bytes (idempotency fingerprints them).
func DecodeBody(w http.ResponseWriter, r *http.Request, max int64, v any) ([]byte, error) {
	raw, err := ReadBody(w, r, max)
	if err != nil {
		return nil, err
	}
	return raw, DecodeStrict(raw, v)
}

func malformed(err error) *Problem {
	p := New(http.StatusBadRequest, SlugMalformedBody, "Malformed JSON body", "")
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syntax):
		p.Detail = fmt.Sprintf("not valid JSON at byte %d: %v", syntax.Offset, syntax)
	case errors.As(err, &typ) && typ.Field == "":
		p.Detail = "the body must be a JSON object"
	case errors.As(err, &typ):
		p.Detail = "a field has a value of the wrong JSON type"
		p.Errors = []FieldProblem{{Field: typ.Field, Problem: fmt.Sprintf("got a JSON %s, want %s", typ.Value, jsonKind(typ.Type.String()))}}
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		name := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		p.Detail = "the body has a field this request does not take"
		p.Errors = []FieldProblem{{Field: name, Problem: "unknown field"}}
	case errors.Is(err, io.ErrUnexpectedEOF):
		p.Detail = "the JSON ends too early"
	default:
		p.Detail = err.Error()
	}
	return p
}

// jsonKind names the JSON type a Go type is read from.
func jsonKind(goType string) string {
	goType = strings.TrimPrefix(goType, "*")
	switch {
	case goType == "string":
		return "string"
	case goType == "bool":
		return "boolean"
	case strings.HasPrefix(goType, "int") || strings.HasPrefix(goType, "float"):
		return "number"
	case strings.HasPrefix(goType, "[]"):
		return "array"
	}
	return "object"
}
