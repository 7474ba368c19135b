package api

import (
	"encoding/json"
	"fmt"
	"math"
	"mime"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
)

// schemaChecker validates JSON values against the subset of JSON Schema the
// OpenAPI document uses: $ref, type (one or a list), properties, required,
// additionalProperties: false, items, enum, minimum/maximum and the formats
// date, date-time and uuid. It reads the document as served.
type schemaChecker struct {
	doc map[string]any
}

func newSchemaChecker(served []byte) (*schemaChecker, error) {
	var doc map[string]any
	if err := json.Unmarshal(served, &doc); err != nil {
		return nil, err
	}
	return &schemaChecker{doc: doc}, nil
}

// resolve follows a local $ref.
func (c *schemaChecker) resolve(ref string) (map[string]any, error) {
	path, ok := strings.CutPrefix(ref, "#/")
	if !ok {
		return nil, fmt.Errorf("non-local $ref %q", ref)
	}
	var cur any = c.doc
	for _, part := range strings.Split(path, "/") {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("$ref %q: %q is not an object", ref, part)
		}
		if cur, ok = m[part]; !ok {
			return nil, fmt.Errorf("$ref %q: no %q", ref, part)
		}
	}
	m, ok := cur.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("$ref %q is not a schema", ref)
	}
	return m, nil
}

// operation finds the operation for a path pattern and method.
func (c *schemaChecker) operation(pattern, method string) (map[string]any, error) {
	paths, _ := c.doc["paths"].(map[string]any)
	item, ok := paths[pattern].(map[string]any)
	if !ok {
		return nil, fmt.Errorf("path %s is not documented", pattern)
	}
	op, ok := item[strings.ToLower(method)].(map[string]any)
	if !ok {
		return nil, fmt.Errorf("%s %s is not documented", method, pattern)
	}
	return op, nil
}

// responseSchema finds the documented schema of one answer; nil schema
// means the media type is documented without a JSON schema to check.
func (c *schemaChecker) responseSchema(pattern, method string, status int, contentType string) (map[string]any, error) {
	op, err := c.operation(pattern, method)
	if err != nil {
		return nil, err
	}
	responses, _ := op["responses"].(map[string]any)
	resp, ok := responses[strconv.Itoa(status)].(map[string]any)
	if !ok {
		return nil, fmt.Errorf("%s %s: status %d is not documented", method, pattern, status)
	}
	content, _ := resp["content"].(map[string]any)
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		return nil, fmt.Errorf("%s %s %d: content type %q: %v", method, pattern, status, contentType, err)
	}
	media, ok := content[mt].(map[string]any)
	if !ok {
		return nil, fmt.Errorf("%s %s %d: media type %s is not documented (documented: %v)", method, pattern, status, mt, keys(content))
	}
	schema, _ := media["schema"].(map[string]any)
	if !strings.HasSuffix(mt, "json") {
		return nil, nil
	}
	return schema, nil
}

func keys(m map[string]any) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// validate returns every way v breaks schema, each prefixed with its path.
func (c *schemaChecker) validate(schema map[string]any, v any, path string) []string {
	if ref, ok := schema["$ref"].(string); ok {
		target, err := c.resolve(ref)
		if err != nil {
			return []string{path + ": " + err.Error()}
		}
		return c.validate(target, v, path)
	}
	var errs []string
	fail := func(format string, args ...any) { errs = append(errs, path+": "+fmt.Sprintf(format, args...)) }

	if t, ok := schema["type"]; ok {
		var allowed []string
		switch t := t.(type) {
		case string:
			allowed = []string{t}
		case []any:
			for _, x := range t {
				allowed = append(allowed, x.(string))
			}
		}
		if !slices.ContainsFunc(allowed, func(want string) bool { return hasType(v, want) }) {
			fail("is %s, want %v", jsonTypeOf(v), allowed)
			return errs
		}
	}
	if e, ok := schema["enum"].([]any); ok && v != nil && !slices.Contains(e, v) {
		fail("%v is not one of %v", v, e)
	}
	if s, ok := v.(string); ok {
		switch schema["format"] {
		case "date":
			if _, err := time.Parse(time.DateOnly, s); err != nil {
				fail("%q is not a date", s)
			}
		case "date-time":
			if _, err := time.Parse(time.RFC3339Nano, s); err != nil {
				fail("%q is not an RFC 3339 time", s)
			}
		case "uuid":
			if _, err := uuid.Parse(s); err != nil {
				fail("%q is not a UUID", s)
			}
		}
	}
	if n, ok := v.(float64); ok {
		if lo, ok := schema["minimum"].(float64); ok && n < lo {
			fail("%v is below %v", n, lo)
		}
		if hi, ok := schema["maximum"].(float64); ok && n > hi {
			fail("%v is above %v", n, hi)
		}
	}
	switch v := v.(type) {
	case map[string]any:
		props, _ := schema["properties"].(map[string]any)
		for _, r := range asStrings(schema["required"]) {
			if _, ok := v[r]; !ok {
				fail("required property %q is missing", r)
			}
		}
		for name, value := range v {
			ps, ok := props[name].(map[string]any)
			if !ok {
				if schema["additionalProperties"] == false {
					fail("property %q is not documented", name)
				}
				continue
			}
			errs = append(errs, c.validate(ps, value, path+"."+name)...)
		}
	case []any:
		if items, ok := schema["items"].(map[string]any); ok {
			for i, x := range v {
				errs = append(errs, c.validate(items, x, fmt.Sprintf("%s[%d]", path, i))...)
			}
		}
	}
	return errs
}

func asStrings(v any) []string {
	var out []string
	if xs, ok := v.([]any); ok {
		for _, x := range xs {
			out = append(out, x.(string))
		}
	}
	return out
}

func hasType(v any, want string) bool {
	switch want {
	case "integer":
		n, ok := v.(float64)
		return ok && n == math.Trunc(n)
	case "number":
		_, ok := v.(float64)
		return ok
	}
	return jsonTypeOf(v) == want
}

func jsonTypeOf(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "boolean"
	case float64:
		return "number"
	case string:
		return "string"
	case []any:
		return "array"
	case map[string]any:
		return "object"
	}
	return fmt.Sprintf("%T", v)
}

// refs lists every $ref in the document, to check they all resolve.
func refs(v any) []string {
	var out []string
	switch v := v.(type) {
	case map[string]any:
		for k, x := range v {
			if s, ok := x.(string); ok && k == "$ref" {
				out = append(out, s)
			}
			out = append(out, refs(x)...)
		}
	case []any:
		for _, x := range v {
			out = append(out, refs(x)...)
		}
	}
	return out
}
