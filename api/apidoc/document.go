package apidoc

import (
	"errors"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
)

// Op describes one route: it sits in the route table beside the handler,
// and the document is made from it.
type Op struct {
	Method, Path string
	ID, Tag      string
	Summary      string
	Description  string
	// Policy says who may call, in words; empty means public. Roles, when
	// set, are the token roles the route's policy lets through (the same
	// values the policy checks), published as x-roles.
	Policy string
	Roles  []string
	Params []Param
	// Request is a value of the JSON request body's type; RequestContent
	// lists other media types. Neither: no body.
	Request         any
	RequestContent  []Content
	RequestRequired bool
	Responses       []Response
}

// Param is a path, query or header parameter.
type Param struct {
	Name, In    string
	Description string
	Required    bool
	Schema      Schema
}

// Response is one answer of an operation.
type Response struct {
	Status      int
	Description string
	// Body is a value of the JSON body's type (application/json, or Media
	// when set); Content lists other media types beside or instead of it.
	Body    any
	Media   string
	Content []Content
	// Headers names headers, each with its description.
	Headers map[string]string
}

// Content is a media type of a response and its schema.
type Content struct {
	Media  string
	Body   any    // reflected, or
	Schema Schema // given
}

// PathParam, QueryParam and HeaderParam build parameters.
func PathParam(name, desc string) Param {
	return Param{Name: name, In: "path", Description: desc, Required: true, Schema: Schema{"type": "string"}}
}

// QueryParam is an optional query parameter.
func QueryParam(name, desc string, s Schema) Param {
	return Param{Name: name, In: "query", Description: desc, Schema: s}
}

// HeaderParam is an optional request header.
func HeaderParam(name, desc string, s Schema) Param {
	return Param{Name: name, In: "header", Description: desc, Schema: s}
}

// Require marks a parameter required.
func (p Param) Require() Param { p.Required = true; return p }

// Object is the OpenAPI parameter object.
func (p Param) Object() Schema {
	o := Schema{"name": p.Name, "in": p.In, "required": p.Required, "schema": p.Schema}
	if p.Description != "" {
		o["description"] = p.Description
	}
	return o
}

// ParameterObjects are the op's parameters as OpenAPI objects, which
// package params reads to guard the route.
func (o Op) ParameterObjects() []map[string]any {
	out := make([]map[string]any, len(o.Params))
	for i, p := range o.Params {
		out[i] = p.Object()
	}
	return out
}

// Info is the document's head.
type Info struct {
	Title, Version, Description string
	Tags                        []Tag
	// SecuritySchemes go to the components as they are.
	SecuritySchemes Schema
}

// Tag groups operations.
type Tag struct{ Name, Description string }

// Check reports what is wrong with a route table's descriptors: a route
// without one, a duplicate id or route, a path wildcard not declared.
func Check(ops []Op) error {
	var errs []error
	ids := map[string]string{}
	routes := map[string]bool{}
	for _, o := range ops {
		route := o.Method + " " + o.Path
		if o.ID == "" || o.Summary == "" || o.Description == "" || o.Tag == "" {
			errs = append(errs, fmt.Errorf("%s has no descriptor (id, tag, summary and description are required)", route))
		}
		if other, dup := ids[o.ID]; dup && o.ID != "" {
			errs = append(errs, fmt.Errorf("operation id %s is used by %s and %s", o.ID, other, route))
		}
		ids[o.ID] = route
		if routes[route] {
			errs = append(errs, fmt.Errorf("%s is described twice", route))
		}
		routes[route] = true
		if len(o.Responses) == 0 {
			errs = append(errs, fmt.Errorf("%s documents no response", route))
		}
		for _, w := range wildcards(o.Path) {
			if !slices.ContainsFunc(o.Params, func(p Param) bool { return p.In == "path" && p.Name == w }) {
				errs = append(errs, fmt.Errorf("%s: path parameter %s is not declared", route, w))
			}
		}
	}
	return errors.Join(errs...)
}

func wildcards(path string) []string {
	var out []string
	for _, seg := range strings.Split(path, "/") {
		if name, ok := strings.CutPrefix(seg, "{"); ok {
			out = append(out, strings.TrimSuffix(strings.TrimSuffix(name, "}"), "..."))
		}
	}
	return out
}

// Build makes the OpenAPI 3.1 document of the operations: their schemas
// reflected by r (which may already hold components), responseHeaders
// describing the headers responses name.
func Build(info Info, r *Reflector, responseHeaders map[string]string, ops []Op) (Schema, error) {
	if err := Check(ops); err != nil {
		return nil, err
	}
	paths := Schema{}
	for _, o := range ops {
		item, _ := paths[o.Path].(Schema)
		if item == nil {
			item = Schema{}
			paths[o.Path] = item
		}
		op, err := operation(o, r, responseHeaders)
		if err != nil {
			return nil, err
		}
		item[strings.ToLower(o.Method)] = op
	}
	if err := r.Err(); err != nil {
		return nil, err
	}
	tags := make([]Schema, len(info.Tags))
	for i, t := range info.Tags {
		tags[i] = Schema{"name": t.Name, "description": t.Description}
	}
	components := Schema{"schemas": r.Components()}
	if info.SecuritySchemes != nil {
		components["securitySchemes"] = info.SecuritySchemes
	}
	return Schema{
		"openapi":    "3.1.0",
		"info":       Schema{"title": info.Title, "version": info.Version, "description": info.Description},
		"servers":    []Schema{{"url": "/"}},
		"tags":       tags,
		"paths":      paths,
		"components": components,
	}, nil
}

func operation(o Op, r *Reflector, responseHeaders map[string]string) (Schema, error) {
	desc := o.Description
	op := Schema{"operationId": o.ID, "summary": o.Summary, "tags": []string{o.Tag}}
	if o.Policy != "" {
		desc += "\n\nWho may call: " + o.Policy + "."
		op["security"] = []Schema{{"bearer": []string{}}}
		op["x-policy"] = o.Policy
	}
	if len(o.Roles) > 0 {
		op["x-roles"] = slices.Clone(o.Roles)
	}
	op["description"] = desc
	op["parameters"] = o.ParameterObjects()
	if o.Request != nil || len(o.RequestContent) > 0 {
		content := Schema{}
		if o.Request != nil {
			content["application/json"] = Schema{"schema": r.SchemaOf(o.Request)}
		}
		for _, c := range o.RequestContent {
			s := c.Schema
			if c.Body != nil {
				s = r.SchemaOf(c.Body)
			}
			content[c.Media] = Schema{"schema": s}
		}
		op["requestBody"] = Schema{"required": o.RequestRequired, "content": content}
	}
	responses := Schema{}
	for _, res := range o.Responses {
		code := strconv.Itoa(res.Status)
		if _, dup := responses[code]; dup {
			return nil, fmt.Errorf("apidoc: %s %s: status %s is documented twice", o.Method, o.Path, code)
		}
		if res.Description == "" {
			res.Description = http.StatusText(res.Status)
		}
		out := Schema{"description": res.Description}
		content := Schema{}
		if res.Body != nil {
			media := res.Media
			if media == "" {
				media = "application/json"
			}
			content[media] = Schema{"schema": r.SchemaOf(res.Body)}
		}
		for _, c := range res.Content {
			s := c.Schema
			if c.Body != nil {
				s = r.SchemaOf(c.Body)
			}
			content[c.Media] = Schema{"schema": s}
		}
		if len(content) > 0 {
			out["content"] = content
		}
		if len(res.Headers) > 0 {
			h := Schema{}
			for name, d := range res.Headers {
				if d == "" {
					d = responseHeaders[name]
				}
				if d == "" {
					return nil, fmt.Errorf("apidoc: %s %s: header %s has no description", o.Method, o.Path, name)
				}
				h[name] = Schema{"description": d, "schema": Schema{"type": "string"}}
			}
			out["headers"] = h
		}
		responses[code] = out
	}
	op["responses"] = responses
	return op, nil
}

// Describe pairs every route of a group with its descriptor, keyed by
// "METHOD pattern", and turns each pair into an operation. A route
// without a descriptor, or a descriptor without a route, is an error: no
// route is served undocumented, and no stale description survives.
func Describe[R, D any](group string, routes []R, key func(R) string, docs map[string]D, op func(R, D) (Op, error)) ([]Op, error) {
	docs = maps.Clone(docs)
	ops := make([]Op, 0, len(routes))
	for _, rt := range routes {
		k := key(rt)
		d, found := docs[k]
		if !found {
			return nil, fmt.Errorf("%s: route %s has no OpenAPI descriptor", group, k)
		}
		delete(docs, k)
		o, err := op(rt, d)
		if err != nil {
			return nil, fmt.Errorf("%s: route %s: %w", group, k, err)
		}
		ops = append(ops, o)
	}
	for _, k := range slices.Sorted(maps.Keys(docs)) {
		return nil, fmt.Errorf("%s: descriptor %s names no route", group, k)
	}
	return ops, nil
}
