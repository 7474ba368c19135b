package apidoc_test

import (
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"promiseledger/api/apidoc"
)

type level string

func (level) Enum() []string { return []string{"republican", "regional"} }

//lint:ignore U1000 the fields give the type a shape; its JSONSchema method describes it
type day struct{ y, m, d int }

func (day) JSONSchema() map[string]any { return map[string]any{"type": "string", "format": "date"} }

type inner struct {
	Name string `json:"name" doc:"The name."`
}

func (inner) Describe() string { return "Something inside." }

type common struct {
	Reason string `json:"reason,omitempty"`
}

type answer struct {
	common
	ID      string    `json:"id" format:"uuid"`
	Level   level     `json:"level"`
	Day     day       `json:"day"`
	Share   float64   `json:"share" minimum:"0" maximum:"100"`
	Note    *string   `json:"note"`
	Maybe   *inner    `json:"maybe"`
	Gone    *int      `json:"gone,omitempty"`
	When    time.Time `json:"when"`
	Inners  []inner   `json:"inners"`
	Skipped string    `json:"-"`
	//lint:ignore U1000 reflection must skip it
	unexport string
	Tags     []string    `json:"tags,omitzero"`
	Pages    page[inner] `json:"pages"`
}

type page[T any] struct {
	Items []T `json:"items"`
}

// answerPlus is answer with one more field: what a developer adding a
// response field does.
type answerPlus struct {
	answer
	Added int `json:"added"`
}

func TestReflectFollowsTypesAndTags(t *testing.T) {
	r := apidoc.NewReflector()
	s := r.SchemaOf(answer{})
	if s["$ref"] != "#/components/schemas/Answer" {
		t.Fatalf("schema = %v, want a $ref to Answer", s)
	}
	c := r.Components()["Answer"]
	props := c["properties"].(apidoc.Schema)
	want := []string{"reason", "id", "level", "day", "share", "note", "maybe", "gone", "when", "inners", "tags", "pages"}
	got := slices.Sorted(func(yield func(string) bool) {
		for k := range props {
			if !yield(k) {
				return
			}
		}
	})
	if !slices.Equal(got, slices.Sorted(slices.Values(want))) {
		t.Errorf("properties = %v, want %v", got, want)
	}
	if req := c["required"].([]string); !slices.Equal(req, []string{"id", "level", "day", "share", "note", "maybe", "when", "inners", "pages"}) {
		t.Errorf("required = %v (omitempty and omitzero fields are optional, the rest required)", req)
	}
	if c["additionalProperties"] != false {
		t.Error("objects must be closed")
	}
	checks := map[string]string{
		"id":    `{"format":"uuid","type":"string"}`,
		"level": `{"enum":["republican","regional"],"type":"string"}`,
		"day":   `{"format":"date","type":"string"}`,
		"share": `{"maximum":100,"minimum":0,"type":"number"}`,
		"note":  `{"type":["string","null"]}`,
		"maybe": `{"oneOf":[{"type":"null"},{"$ref":"#/components/schemas/Inner"}]}`,
		"gone":  `{"type":"integer"}`,
		"when":  `{"format":"date-time","type":"string"}`,
		"pages": `{"$ref":"#/components/schemas/InnerPage"}`,
	}
	for name, want := range checks {
		b, _ := json.Marshal(props[name])
		if string(b) != want {
			t.Errorf("%s = %s, want %s", name, b, want)
		}
	}
	in := r.Components()["Inner"]
	if in["description"] != "Something inside." || in["properties"].(apidoc.Schema)["name"].(apidoc.Schema)["description"] != "The name." {
		t.Errorf("Inner = %v: Describe() and doc tags are the descriptions", in)
	}
	if err := r.Err(); err != nil {
		t.Fatal(err)
	}
}

// TestAddedFieldChangesTheDocument: the document is made from the types,
// so a field added to a response type appears in it, required.
func TestAddedFieldChangesTheDocument(t *testing.T) {
	doc := func(body any) []byte {
		t.Helper()
		d, err := apidoc.Build(apidoc.Info{Title: "t", Version: "1"}, apidoc.NewReflector(), nil, []apidoc.Op{{
			Method: "GET", Path: "/x", ID: "x", Tag: "t", Summary: "s", Description: "d",
			Responses: []apidoc.Response{{Status: 200, Body: body}},
		}})
		if err != nil {
			t.Fatal(err)
		}
		b, err := json.Marshal(d)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	before, after := doc(answer{}), doc(answerPlus{})
	if string(before) == string(after) {
		t.Fatal("adding a field did not change the document")
	}
	if strings.Contains(string(before), `"added"`) || !strings.Contains(string(after), `"added":{"type":"integer"}`) {
		t.Errorf("the added field is not described:\n%s", after)
	}
}

type selfMarshalled struct{}

func (selfMarshalled) MarshalJSON() ([]byte, error) { return []byte(`1`), nil }

type holder struct {
	X selfMarshalled `json:"x"`
}

// TestSelfMarshallingTypeNeedsASchema: the reflector does not guess the
// JSON of a type that writes itself.
func TestSelfMarshallingTypeNeedsASchema(t *testing.T) {
	r := apidoc.NewReflector()
	r.SchemaOf(holder{})
	if err := r.Err(); err == nil || !strings.Contains(err.Error(), "selfMarshalled") {
		t.Fatalf("Err = %v, want one naming selfMarshalled", err)
	}
	r = apidoc.NewReflector()
	r.Define(reflect.TypeFor[selfMarshalled](), apidoc.Schema{"type": "integer"})
	r.SchemaOf(holder{})
	if err := r.Err(); err != nil {
		t.Fatal(err)
	}
}

func TestBuildRefusesIncompleteDescriptors(t *testing.T) {
	ok := apidoc.Op{Method: "GET", Path: "/a/{id}", ID: "a", Tag: "t", Summary: "s", Description: "d",
		Params: []apidoc.Param{apidoc.PathParam("id", "")}, Responses: []apidoc.Response{{Status: 200}}}
	for name, tc := range map[string]struct {
		ops  []apidoc.Op
		want string
	}{
		"no descriptor":         {[]apidoc.Op{ok, {Method: "GET", Path: "/b", Responses: ok.Responses}}, "GET /b has no descriptor"},
		"duplicate id":          {[]apidoc.Op{ok, func() apidoc.Op { o := ok; o.Path = "/c/{id}"; return o }()}, "operation id a is used"},
		"undeclared wildcard":   {[]apidoc.Op{func() apidoc.Op { o := ok; o.Params = nil; return o }()}, "path parameter id is not declared"},
		"no response":           {[]apidoc.Op{func() apidoc.Op { o := ok; o.Responses = nil; return o }()}, "documents no response"},
		"route described twice": {[]apidoc.Op{ok, func() apidoc.Op { o := ok; o.ID = "b"; return o }()}, "described twice"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := apidoc.Build(apidoc.Info{}, apidoc.NewReflector(), nil, tc.ops)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
		})
	}
}
