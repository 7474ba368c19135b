package kernel

import "net/http"

// Page is the envelope of every list answer, paged or not: the list is
// always items, and next_cursor continues it (null on the last page).
// Answers that carry more than a list (a checkpoint, a ranking's period)
// embed a Page.
type Page[T any] struct {
	Items      []T     `json:"items"`
	NextCursor *string `json:"next_cursor"`
}

// NewPage returns a page of items ([] rather than null when empty), with
// next as its cursor ("" on the last page).
func NewPage[T any](items []T, next string) Page[T] {
	p := Page[T]{Items: items}
	if p.Items == nil {
		p.Items = []T{}
	}
	if next != "" {
		p.NextCursor = &next
	}
	return p
}

// WritePage answers with a page, and a Link header to the next one.
func WritePage[T any](w http.ResponseWriter, r *http.Request, items []T, next string) {
	LinkNext(w, r, next)
	WriteJSON(w, http.StatusOK, NewPage(items, next))
}

// LinkNext sets the Link header to the next page: the request's own URL,
// as the client sent it, with cursor=next.
func LinkNext(w http.ResponseWriter, r *http.Request, next string) {
	if next == "" {
		return
	}
	u := *r.URL
	u.Path, u.RawPath = RequestPath(r), ""
	q := u.Query()
	q.Set("cursor", next)
	u.RawQuery = q.Encode()
	w.Header().Set("Link", "<"+u.RequestURI()+`>; rel="next"`)
}
