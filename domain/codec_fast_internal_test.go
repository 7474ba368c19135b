package domain

import (
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// storedShapes is every shape Decode reads, by name: each event type's
// payload and the metadata.
func storedShapes(t testing.TB) (names []string, shapes map[string]reflect.Type) {
	shapes = map[string]reflect.Type{"metadata": reflect.TypeFor[metaJSON]()}
	for typ, decode := range decoders {
		e, err := decode([]byte(`{}`))
		if err != nil {
			t.Fatalf("%s: decode {}: %v", typ, err)
		}
		shapes[typ] = reflect.TypeOf(e)
	}
	for name := range shapes {
		names = append(names, name)
	}
	slices.Sort(names)
	return names, shapes
}

// agree decodes data into a new value of shape with both decoders: when
// the fast one accepts it, encoding/json must accept it too and decode
// the same value (unmarshal keeps encoding/json's answer only when the
// fast decoder refuses).
func agree(t *testing.T, name string, shape reflect.Type, data []byte) {
	fast := reflect.New(shape)
	if !fastUnmarshal(data, fast.Interface()) {
		return
	}
	slow := reflect.New(shape)
	if err := json.Unmarshal(data, slow.Interface()); err != nil {
		t.Fatalf("%s: the fast decoder accepted %q, encoding/json refused it: %v", name, data, err)
	}
	if !reflect.DeepEqual(fast.Elem().Interface(), slow.Elem().Interface()) {
		t.Fatalf("%s: %q decodes differently:\n fast          %#v\n encoding/json %#v", name, data, fast.Elem().Interface(), slow.Elem().Interface())
	}
}

// fastDecodeSeeds are documents of every shape: its zero value as stored,
// and the same with each string made hostile (NUL, bytes that are not
// UTF-8, a lone surrogate, bidi controls, escapes) and with numbers at
// their edges, nulls and keys in another case.
func fastDecodeSeeds(t testing.TB) (seeds [][2]string) {
	names, shapes := storedShapes(t)
	for _, name := range names {
		zero, err := json.Marshal(reflect.New(shapes[name]).Elem().Interface())
		if err != nil {
			t.Fatal(err)
		}
		full := reflect.New(shapes[name]).Elem()
		fill(full, 0)
		filled, err := json.Marshal(full.Interface())
		if err != nil {
			t.Fatal(err)
		}
		seeds = append(seeds, [2]string{name, string(filled)}, [2]string{name, strings.ReplaceAll(string(filled), `"s"`, `"\u00e9\ud800"`)})
		doc := string(zero)
		seeds = append(seeds, [2]string{name, doc})
		for _, s := range []string{`"a\u0000b"`, "\"\xff\xfe\"", `"\ud800"`, `"\u202eabc\u202c"`, `"\\\"\/\b\f\n\r\t"`, `"x` + strings.Repeat("я", 300) + `"`} {
			seeds = append(seeds, [2]string{name, strings.ReplaceAll(doc, `""`, s)})
		}
		for _, n := range []string{`1e308`, `-0`, `1.7976931348623157e309`, `9223372036854775808`, `0.1`, `1E-7`, `null`} {
			seeds = append(seeds, [2]string{name, strings.ReplaceAll(doc, `:0`, `:`+n)})
		}
		seeds = append(seeds, [2]string{name, strings.ReplaceAll(doc, `""`, `null`)}, [2]string{name, strings.ToUpper(doc)},
			[2]string{name, doc + ` `}, [2]string{name, doc + `x`}, [2]string{name, `[` + doc + `]`})
	}
	return seeds
}

func TestFastDecodeAgreesOnSeeds(t *testing.T) {
	t.Parallel()
	_, shapes := storedShapes(t)
	for _, s := range fastDecodeSeeds(t) {
		agree(t, s[0], shapes[s[0]], []byte(s[1]))
	}
}

// FuzzFastDecodeAgrees: go test -fuzz FuzzFastDecodeAgrees ./domain
func FuzzFastDecodeAgrees(f *testing.F) {
	names, shapes := storedShapes(f)
	index := map[string]int{}
	for i, n := range names {
		index[n] = i
	}
	for _, s := range fastDecodeSeeds(f) {
		f.Add(uint16(index[s[0]]), []byte(s[1]))
	}
	f.Fuzz(func(t *testing.T, which uint16, data []byte) {
		name := names[int(which)%len(names)]
		agree(t, name, shapes[name], data)
	})
}

// fill gives every field of v a value that is not its zero (strings "s",
// numbers 1.5 or 7, true, one element in lists and maps, pointers set), so
// that fields left out when empty are seeded too. Types that encode
// themselves (times, dates, ids) are set only when their zero would be
// left out.
func fill(v reflect.Value, depth int) {
	if depth > 6 || !v.CanSet() {
		return
	}
	if _, ok := v.Addr().Interface().(json.Marshaler); ok {
		return
	}
	switch v.Kind() {
	case reflect.String:
		v.SetString("s")
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		v.SetInt(7)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		v.SetUint(7)
	case reflect.Float32, reflect.Float64:
		v.SetFloat(1.5)
	case reflect.Pointer:
		p := reflect.New(v.Type().Elem())
		fill(p.Elem(), depth+1)
		v.Set(p)
	case reflect.Slice:
		if v.Type().Elem().Kind() == reflect.Uint8 {
			return // bytes: a UUID or raw data, encoded by its type
		}
		s := reflect.MakeSlice(v.Type(), 1, 1)
		fill(s.Index(0), depth+1)
		v.Set(s)
	case reflect.Map:
		m := reflect.MakeMap(v.Type())
		k, e := reflect.New(v.Type().Key()).Elem(), reflect.New(v.Type().Elem()).Elem()
		fill(k, depth+1)
		fill(e, depth+1)
		m.SetMapIndex(k, e)
		v.Set(m)
	case reflect.Struct:
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				fill(v.Field(i), depth+1)
			}
		}
	}
}
