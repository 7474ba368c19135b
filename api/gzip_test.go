package api

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
)

// TestGzipWhenTheClientAcceptsIt: a client that accepts gzip gets a smaller
// body that decodes to the same JSON; one that does not gets plain JSON.
func TestGzipWhenTheClientAcceptsIt(t *testing.T) {
	e := newEnv(t)
	for _, path := range []string{"/openapi.json"} {
		t.Run(path, func(t *testing.T) {
			plain := e.do(req{method: "GET", path: path})
			// Past e.do: its OpenAPI check reads the body as JSON.
			hr := httptest.NewRequestWithContext(t.Context(), "GET", path, nil)
			hr.Header.Set("Accept-Encoding", "gzip")
			rec := httptest.NewRecorder()
			e.handler.ServeHTTP(rec, hr)
			zipped := response{status: rec.Code, header: rec.Header(), body: rec.Body.Bytes()}
			if plain.status != 200 || zipped.status != 200 {
				t.Fatalf("plain %d, gzip %d", plain.status, zipped.status)
			}
			if ce := plain.header.Get("Content-Encoding"); ce != "" {
				t.Errorf("a client that does not accept gzip got Content-Encoding %q", ce)
			}
			if ce := zipped.header.Get("Content-Encoding"); ce != "gzip" {
				t.Fatalf("a client that accepts gzip got Content-Encoding %q", ce)
			}
			if !strings.Contains(zipped.header.Get("Vary"), "Accept-Encoding") {
				t.Errorf("Vary %q does not name Accept-Encoding: caches would mix the two", zipped.header.Get("Vary"))
			}
			if len(zipped.body) >= len(plain.body) {
				t.Errorf("gzip body %d bytes, plain %d: not smaller", len(zipped.body), len(plain.body))
			}
			zr, err := gzip.NewReader(bytes.NewReader(zipped.body))
			if err != nil {
				t.Fatal(err)
			}
			unzipped, err := io.ReadAll(zr)
			if err != nil {
				t.Fatal(err)
			}
			var a, b any
			if err := json.Unmarshal(plain.body, &a); err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal(unzipped, &b); err != nil {
				t.Fatalf("the gzip body does not decode to JSON: %v", err)
			}
			if !reflect.DeepEqual(a, b) {
				t.Errorf("the gzip body decodes to other JSON than the plain one")
			}
		})
	}
}

// TestGzipKeepsStreamsStreaming: an export that flushes as it goes reaches
// a gzip client line by line (the first line arrives while the handler still
// waits to write the rest), and the client gets the end line.
func TestGzipKeepsStreamsStreaming(t *testing.T) {
	firstRead := make(chan struct{})
	export := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/x-ndjson")
		w.WriteHeader(http.StatusOK)
		fmt.Fprintln(w, `{"header":true}`)
		http.NewResponseController(w).Flush() //nolint:errcheck
		select {
		case <-firstRead: // only a streamed first line lets the handler go on
		case <-r.Context().Done():
			return
		}
		for i := range 500 {
			fmt.Fprintf(w, `{"event":%d,"padding":%q}`+"\n", i, strings.Repeat("x", 40))
		}
		fmt.Fprintln(w, `{"end":{"events":500}}`)
	})
	e := newEnv(t, func(c *Config) {
		c.Mounts = append(c.Mounts, Mount{Handler: export, Patterns: []string{"GET /test-export"}})
	})
	srv := httptest.NewServer(e.handler)
	defer srv.Close()
	hr, err := http.NewRequestWithContext(t.Context(), "GET", srv.URL+"/test-export", nil)
	if err != nil {
		t.Fatal(err)
	}
	hr.Header.Set("Accept-Encoding", "gzip") // set by hand: the transport then leaves the body compressed
	resp, err := http.DefaultClient.Do(hr)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ce := resp.Header.Get("Content-Encoding"); ce != "gzip" {
		t.Fatalf("Content-Encoding %q, want gzip", ce)
	}
	zr, err := gzip.NewReader(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	lines := bufio.NewScanner(zr)
	if !lines.Scan() || lines.Text() != `{"header":true}` {
		t.Fatalf("first line %q (%v), want the header", lines.Text(), lines.Err())
	}
	close(firstRead)
	var last string
	n := 1
	for lines.Scan() {
		last = lines.Text()
		n++
	}
	if err := lines.Err(); err != nil {
		t.Fatal(err)
	}
	if last != `{"end":{"events":500}}` || n != 502 {
		t.Fatalf("%d lines, last %q: want 502 lines ending with the end line", n, last)
	}
}
