// Package apidoc builds the OpenAPI 3.1 description of the HTTP API from
// the code: JSON Schemas (the 2020-12 dialect OpenAPI 3.1 uses) reflected
// from the Go request and response types the handlers encode and decode,
// and operation descriptors that sit in the route tables beside the
// handlers. A field, a route or a policy cannot change without the
// document changing, because the document is made from them.
//
// Reflection follows encoding/json: exported fields, json tag names,
// embedded structs inlined. A field is required unless its tag says
// omitempty or omitzero; a pointer without omitempty may be null. The
// prose lives on the types:
//
//   - a field's `doc:"..."` tag is its description; `format:"uuid"`,
//     `enum:"a,b"`, `minimum:"0"`, `maximum:"1"` and `type:"object"` (for
//     a json.RawMessage) add to its schema;
//   - a type's Describe() string method is its description;
//   - a string type's Enum() []string method lists its values;
//   - a struct type's SchemaName() string method names its component;
//   - a type that marshals itself (MarshalJSON, MarshalText) must say its
//     schema with JSONSchema() map[string]any, or be given one with
//     Reflector.Define: the reflector refuses to guess.
package apidoc

import (
	"encoding"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/google/uuid"
)

// Schema is a JSON Schema or any other OpenAPI object, as JSON data.
type Schema = map[string]any

// Describer gives a type's description.
type Describer interface{ Describe() string }

// Enumerator lists a string type's values.
type Enumerator interface{ Enum() []string }

// Namer names a struct type's component.
type Namer interface{ SchemaName() string }

// SchemaGiver states a type's schema itself (types that marshal
// themselves).
type SchemaGiver interface{ JSONSchema() map[string]any }

var (
	jsonMarshaler = reflect.TypeFor[json.Marshaler]()
	textMarshaler = reflect.TypeFor[encoding.TextMarshaler]()
)

// Reflector turns Go types into schemas, collecting named struct types as
// components (#/components/schemas/Name).
type Reflector struct {
	components map[string]Schema
	names      map[reflect.Type]string
	defined    map[reflect.Type]Schema
	errs       []error
}

// NewReflector returns a Reflector that knows time.Time, uuid.UUID and
// json.RawMessage.
func NewReflector() *Reflector {
	r := &Reflector{components: map[string]Schema{}, names: map[reflect.Type]string{}, defined: map[reflect.Type]Schema{}}
	r.Define(reflect.TypeFor[time.Time](), Schema{"type": "string", "format": "date-time"})
	r.Define(reflect.TypeFor[uuid.UUID](), Schema{"type": "string", "format": "uuid"})
	r.Define(reflect.TypeFor[json.RawMessage](), Schema{})
	return r
}

// Define gives t's schema (for a type of another package that marshals
// itself and cannot carry a JSONSchema method).
func (r *Reflector) Define(t reflect.Type, s Schema) { r.defined[t] = s }

// Components are the named schemas reflected so far.
func (r *Reflector) Components() map[string]Schema { return r.components }

// Err reports every type the reflector could not describe.
func (r *Reflector) Err() error {
	if len(r.errs) == 0 {
		return nil
	}
	msgs := make([]string, len(r.errs))
	for i, e := range r.errs {
		msgs[i] = e.Error()
	}
	return fmt.Errorf("apidoc: %s", strings.Join(msgs, "; "))
}

// SchemaOf returns the schema of v's type: a $ref for a named struct.
func (r *Reflector) SchemaOf(v any) Schema {
	if v == nil {
		return Schema{}
	}
	return r.schema(reflect.TypeOf(v))
}

func (r *Reflector) schema(t reflect.Type) Schema {
	if s, ok := r.defined[t]; ok {
		return clone(s)
	}
	if s, ok := given(t); ok {
		return s
	}
	if t.Kind() != reflect.Pointer && (t.Implements(jsonMarshaler) || t.Implements(textMarshaler) ||
		reflect.PointerTo(t).Implements(jsonMarshaler)) {
		r.errs = append(r.errs, fmt.Errorf("%s marshals itself: give it a JSONSchema method or Define its schema", t))
		return Schema{}
	}
	var s Schema
	switch t.Kind() {
	case reflect.Pointer:
		return r.schema(t.Elem())
	case reflect.Bool:
		s = Schema{"type": "boolean"}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		s = Schema{"type": "integer"}
	case reflect.Float32, reflect.Float64:
		s = Schema{"type": "number"}
	case reflect.String:
		s = Schema{"type": "string"}
	case reflect.Slice, reflect.Array:
		if t.Elem().Kind() == reflect.Uint8 && t.Kind() == reflect.Slice {
			s = Schema{"type": "string", "contentEncoding": "base64"}
			break
		}
		s = Schema{"type": "array", "items": r.schema(t.Elem())}
	case reflect.Map:
		s = Schema{"type": "object", "additionalProperties": r.schema(t.Elem())}
	case reflect.Interface:
		s = Schema{}
	case reflect.Struct:
		if t.Name() == "" {
			return r.object(t)
		}
		return Schema{"$ref": "#/components/schemas/" + r.component(t)}
	default:
		r.errs = append(r.errs, fmt.Errorf("%s: a %s cannot be JSON", t, t.Kind()))
		return Schema{}
	}
	if e, ok := enumOf(t); ok {
		s["enum"] = e
	}
	if d, ok := describe(t); ok {
		s["description"] = d
	}
	return s
}

// component reflects a named struct once, under a name unique in the
// document.
func (r *Reflector) component(t reflect.Type) string {
	if name, ok := r.names[t]; ok {
		return name
	}
	name := componentName(t)
	if _, taken := r.components[name]; taken {
		pkg := t.PkgPath()
		pkg = pkg[strings.LastIndex(pkg, "/")+1:]
		name = capitalize(pkg) + name
	}
	for i := 2; ; i++ {
		if _, taken := r.components[name]; !taken {
			break
		}
		name = componentName(t) + strconv.Itoa(i)
	}
	r.names[t] = name
	r.components[name] = Schema{} // a placeholder: recursive types end here
	r.components[name] = r.object(t)
	return name
}

// object is a struct's closed object schema.
func (r *Reflector) object(t reflect.Type) Schema {
	props := Schema{}
	var required []string
	r.fields(t, props, &required)
	s := Schema{"type": "object", "properties": props, "additionalProperties": false}
	if len(required) > 0 {
		s["required"] = required
	}
	if d, ok := describe(t); ok {
		s["description"] = d
	}
	return s
}

func (r *Reflector) fields(t reflect.Type, props Schema, required *[]string) {
	for i := range t.NumField() {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		if f.Anonymous && name == "" {
			ft := f.Type
			if ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			if ft.Kind() == reflect.Struct {
				r.fields(ft, props, required)
				continue
			}
		}
		if !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		optional := slices.ContainsFunc(strings.Split(opts, ","), func(o string) bool { return o == "omitempty" || o == "omitzero" })
		s := r.schema(f.Type)
		if f.Type.Kind() == reflect.Pointer && !optional {
			s = nullable(s)
		}
		if d := f.Tag.Get("doc"); d != "" {
			s["description"] = d
		}
		if v := f.Tag.Get("type"); v != "" {
			s["type"] = v // a raw message of a known JSON type
		}
		if v := f.Tag.Get("format"); v != "" {
			s["format"] = v
		}
		if v := f.Tag.Get("enum"); v != "" {
			s["enum"] = strings.Split(v, ",")
		}
		for _, k := range []string{"minimum", "maximum"} {
			if v := f.Tag.Get(k); v != "" {
				n, err := strconv.ParseFloat(v, 64)
				if err != nil {
					r.errs = append(r.errs, fmt.Errorf("%s.%s: %s tag %q is not a number", t, f.Name, k, v))
				}
				s[k] = n
			}
		}
		props[name] = s
		if !optional {
			*required = append(*required, name)
		}
	}
}

// nullable lets a schema be null too.
func nullable(s Schema) Schema {
	switch t := s["type"].(type) {
	case string:
		s["type"] = []string{t, "null"}
		return s
	case nil:
		if _, ok := s["$ref"]; ok {
			return Schema{"oneOf": []Schema{{"type": "null"}, {"$ref": s["$ref"]}}}
		}
	}
	return s
}

func given(t reflect.Type) (Schema, bool) {
	if t.Kind() == reflect.Pointer {
		// A pointer is its element, maybe null: the element gives the
		// schema (a value method would be called on a nil pointer here).
		return nil, false
	}
	v := reflect.Zero(t).Interface()
	if g, ok := v.(SchemaGiver); ok {
		s := Schema(g.JSONSchema())
		if d, ok := describe(t); ok {
			s["description"] = d
		}
		return s, true
	}
	return nil, false
}

func enumOf(t reflect.Type) ([]string, bool) {
	if t.Kind() != reflect.String {
		return nil, false
	}
	if e, ok := reflect.Zero(t).Interface().(Enumerator); ok {
		return e.Enum(), true
	}
	return nil, false
}

func describe(t reflect.Type) (string, bool) {
	if t.Kind() == reflect.Interface {
		return "", false
	}
	if d, ok := reflect.Zero(t).Interface().(Describer); ok {
		return d.Describe(), true
	}
	return "", false
}

// componentName is a Go type's name as a component: capitalised, and for
// an instance of a generic type, its arguments' names first
// (page[RoadmapSummary] is RoadmapSummaryPage).
func componentName(t reflect.Type) string {
	if n, ok := reflect.Zero(t).Interface().(Namer); ok {
		return n.SchemaName()
	}
	name := t.Name()
	base, args, generic := strings.Cut(name, "[")
	if !generic {
		return capitalize(name)
	}
	var b strings.Builder
	for _, a := range strings.Split(strings.TrimSuffix(args, "]"), ",") {
		a = a[strings.LastIndex(a, ".")+1:]
		a = strings.TrimLeft(a, "[]*")
		b.WriteString(capitalize(a))
	}
	b.WriteString(capitalize(base))
	return b.String()
}

func capitalize(s string) string {
	if s == "" {
		return s
	}
	r := []rune(s)
	r[0] = unicode.ToUpper(r[0])
	return string(r)
}

func clone(s Schema) Schema {
	out := make(Schema, len(s))
	for k, v := range s {
		out[k] = v
	}
	return out
}
