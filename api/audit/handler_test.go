package audit_test

import (
	"bufio"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"promiseledger/api/audit"
	"promiseledger/projections/translog"
	"promiseledger/projections/translog/logtest"
)

func readAll(t testing.TB, resp *http.Response) string {
	t.Helper()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func getJSON(t testing.TB, url string, v any) {
	t.Helper()
	resp := get(t, url)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d %s", url, resp.StatusCode, readAll(t, resp))
	}
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatal(err)
	}
}

func TestEventsPagesAndFilters(t *testing.T) {
	t.Parallel()
	s := newLogServer(t, newKey(t, "pages"))
	cp := s.grow(t, 70)
	s.Append(t, 3) // logged, not yet in a checkpoint
	s.CatchUp(t, 100)
	var seen []int64
	cursor := ""
	for pages := 0; ; pages++ {
		var page audit.EventsPage
		getJSON(t, s.base+"/events?limit=20&cursor="+cursor, &page)
		if page.Checkpoint == nil || page.Checkpoint.TreeSize != cp.TreeSize || page.Checkpoint.RootHash != cp.RootHash.String() {
			t.Fatalf("page names checkpoint %+v", page.Checkpoint)
		}
		for _, e := range page.Items {
			seen = append(seen, e.LeafIndex)
			r, err := e.Recorded()
			if err != nil || translog.LeafHash(r).String() != e.LeafHash {
				t.Fatalf("leaf %d: served event does not hash to its leaf (%v)", e.LeafIndex, err)
			}
			if e.Data == nil || e.Metadata == nil {
				t.Fatalf("leaf %d: JSON data not parsed", e.LeafIndex)
			}
		}
		if page.NextCursor == nil {
			break
		}
		cursor = *page.NextCursor
		if pages > 10 {
			t.Fatal("paging does not end")
		}
	}
	if len(seen) != 73 || !slices.IsSorted(seen) || seen[72] != 72 {
		t.Fatalf("paged through %d events: %v", len(seen), seen)
	}
	var page audit.EventsPage
	getJSON(t, s.base+"/events?actor=officer-2&effective_from=2021-03-01T12:00:00Z&effective_to=2021-03-03", &page)
	var got []int64
	for _, e := range page.Items {
		got = append(got, e.LeafIndex)
	}
	// Event i: actor officer-(i%7), effective 09:00 on 2021-03-01 + i hours.
	if want := []int64{9, 16, 23, 30, 37}; !slices.Equal(got, want) {
		t.Errorf("filtered leaves %v, want %v", got, want)
	}
}

func TestExports(t *testing.T) {
	t.Parallel()
	s := newLogServer(t, newKey(t, "exports"))
	cp := s.grow(t, 30)
	s.grow(t, 10)

	resp := get(t, fmt.Sprintf("%s/events.ndjson?checkpoint=%d", s.base, cp.TreeSize))
	if ct := resp.Header.Get("Content-Type"); ct != "application/x-ndjson" || resp.Header.Get("Audit-Tree-Size") != "30" {
		t.Fatalf("content type %q, tree size %q", ct, resp.Header.Get("Audit-Tree-Size"))
	}
	sc := bufio.NewScanner(resp.Body)
	var lines []string
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	if len(lines) != 32 {
		t.Fatalf("%d lines, want header + 30 + end", len(lines))
	}
	var head audit.ExportHeader
	if err := json.Unmarshal([]byte(lines[0]), &head); err != nil || head.Checkpoint.TreeSize != 30 || head.Checkpoint.RootHash != cp.RootHash.String() || head.Note != cp.Note {
		t.Fatalf("header %s (%v)", lines[0], err)
	}
	if lines[31] != `{"end":{"events":30}}` {
		t.Errorf("end line %s", lines[31])
	}

	resp = get(t, s.base+"/events.csv?stream="+logtest.Stream(1))
	body := readAll(t, resp)
	first, rest, _ := strings.Cut(body, "\n")
	latest, _ := translog.LatestCheckpoint(context.Background(), s.DB)
	if want := fmt.Sprintf("# promiseledger-events-v1 checkpoint origin=exports tree_size=40 root_hash=%s", latest.RootHash); first != want {
		t.Errorf("first line %q, want %q", first, want)
	}
	if !strings.HasSuffix(rest, "\n# end events=2\n") && !strings.Contains(rest, "\n# end events=") {
		t.Errorf("no end line: %q", rest[max(0, len(rest)-80):])
	}
	cr := csv.NewReader(strings.NewReader(rest))
	cr.Comment = '#' // the end line
	recs, err := cr.ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) < 2 || recs[0][0] != "leaf_index" || recs[0][len(recs[0])-1] != "metadata_base64" {
		t.Fatalf("csv header %v", recs[0])
	}
	for _, r := range recs[1:] {
		if r[2] != logtest.Stream(1) || r[8] == "" || r[9] == "" || !strings.HasPrefix(r[13], `{"indicator_id"`) {
			t.Errorf("csv row %v", r)
		}
	}

	// Stream history: every event with a proof that verifies.
	var h audit.StreamHistory
	getJSON(t, s.base+"/streams/"+s.Events(t)[5].Stream+"/history", &h)
	if h.Checkpoint.TreeSize != 40 || len(h.Items) == 0 || h.CurrentVersion == nil {
		t.Fatalf("history %+v", h)
	}
	for _, e := range h.Items {
		leaf, _ := tlog.ParseHash(e.LeafHash)
		var proof tlog.RecordProof
		for _, p := range e.Proof {
			hh, _ := tlog.ParseHash(p)
			proof = append(proof, hh)
		}
		if err := tlog.CheckRecord(proof, 40, latest.RootHash, e.LeafIndex, leaf); err != nil {
			t.Errorf("leaf %d: %v", e.LeafIndex, err)
		}
	}
	if *h.CurrentVersion != h.Items[len(h.Items)-1].Version {
		t.Errorf("current version %d, last in history %d", *h.CurrentVersion, h.Items[len(h.Items)-1].Version)
	}

	// Proofs by event id and consistency.
	var ip audit.InclusionProof
	getJSON(t, s.base+"/proof/inclusion?event_id="+h.Items[0].EventID+"&tree_size=30", &ip)
	if ip.LeafIndex != h.Items[0].LeafIndex || ip.TreeSize != 30 || ip.RootHash != cp.RootHash.String() {
		t.Errorf("inclusion proof %+v", ip)
	}
	var cpf audit.ConsistencyProof
	getJSON(t, s.base+"/proof/consistency?old=30", &cpf)
	var tp tlog.TreeProof
	for _, p := range cpf.Proof {
		hh, _ := tlog.ParseHash(p)
		tp = append(tp, hh)
	}
	if cpf.NewSize != 40 || tlog.CheckTree(tp, 40, latest.RootHash, 30, cp.RootHash) != nil {
		t.Errorf("consistency proof %+v", cpf)
	}
}

func TestProblems(t *testing.T) {
	t.Parallel()
	logKey := newKey(t, "problems")
	w := newKey(t, "witness")
	s := newLogServer(t, logKey, w.vkey)
	expect := func(method, path, body string, status int, problemType string) {
		t.Helper()
		req, _ := http.NewRequest(method, s.base+path, strings.NewReader(body))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var p struct {
			Type     string `json:"type"`
			Status   int    `json:"status"`
			Instance string `json:"instance"`
		}
		ct := resp.Header.Get("Content-Type")
		if err := json.NewDecoder(resp.Body).Decode(&p); err != nil || resp.StatusCode != status || ct != "application/problem+json" ||
			p.Status != status || p.Type != "urn:promiseledger:problem:"+problemType {
			t.Errorf("%s %s: %d %s %+v (%v); want %d %s", method, path, resp.StatusCode, ct, p, err, status, problemType)
		}
	}
	expect("GET", "/checkpoint", "", 404, "not-found")
	s.grow(t, 10)
	expect("GET", "/checkpoints/0", "", 400, "bad-request")
	expect("GET", "/checkpoints/9", "", 404, "not-found")
	expect("GET", "/proof/inclusion?index=x", "", 400, "bad-request")
	expect("GET", "/proof/inclusion?index=1&event_id=x", "", 400, "bad-request")
	expect("GET", "/proof/inclusion?index=10", "", 404, "not-found")
	expect("GET", "/proof/inclusion?index=3&tree_size=11", "", 404, "not-found")
	expect("GET", "/proof/consistency", "", 400, "bad-request")
	expect("GET", "/proof/consistency?old=0", "", 400, "bad-request")
	expect("GET", "/proof/consistency?old=5&new=11", "", 404, "not-found")
	expect("GET", "/proof/consistency?old=12&new=10", "", 400, "bad-request")
	expect("GET", "/events?limit=0", "", 400, "bad-request")
	expect("GET", "/events?limit=51", "", 400, "bad-request")
	expect("GET", "/events?cursor=abc", "", 400, "invalid-cursor")
	expect("GET", "/events?effective_from=yesterday", "", 400, "bad-request")
	expect("GET", "/events.ndjson?checkpoint=7", "", 404, "not-found")
	expect("GET", "/nothing-here", "", 404, "not-found")
	expect("DELETE", "/checkpoint", "", 405, "method-not-allowed")
	expect("GET", "/cosignatures", "", 405, "method-not-allowed")

	// Cosignatures.
	cp, _ := translog.LatestCheckpoint(context.Background(), s.DB)
	sign := func(text string, k key) string {
		msg, err := note.Sign(&note.Note{Text: text}, k.signer)
		if err != nil {
			t.Fatal(err)
		}
		return string(msg)
	}
	expect("POST", "/cosignatures", "not a note", 400, "bad-request")
	expect("POST", "/cosignatures", sign(cp.Body(), newKey(t, "stranger")), 403, "forbidden")
	expect("POST", "/cosignatures", sign(cp.Body(), logKey), 403, "forbidden") // the log is no witness of itself
	other := string(translog.FormatCheckpoint("problems", 10, tlog.Hash{1}))
	expect("POST", "/cosignatures", sign(other, w), 409, "checkpoint-mismatch")
	expect("POST", "/cosignatures", sign(string(translog.FormatCheckpoint("problems", 9, tlog.Hash{1})), w), 404, "not-found")
	forged := sign(cp.Body(), w)
	forged = forged[:len(forged)-6] + "AAAA=\n"
	expect("POST", "/cosignatures", forged, 422, "validation")
	expect("POST", "/cosignatures", strings.Repeat("x", 70<<10), 413, "body-too-large")

	resp, err := http.Post(s.base+"/cosignatures", "text/plain", strings.NewReader(sign(cp.Body(), w)))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var receipt audit.CosignatureReceipt
	if err := json.NewDecoder(resp.Body).Decode(&receipt); err != nil || resp.StatusCode != 201 || receipt.TreeSize != 10 || !slices.Equal(receipt.Witnesses, []string{"witness"}) {
		t.Fatalf("cosignature: %d %+v %v", resp.StatusCode, receipt, err)
	}
	served := readAll(t, get(t, s.base+"/checkpoints/"+strconv.Itoa(10)))
	logV, _ := translog.LoadVerifier(logKey.vkey)
	wV, _ := translog.LoadVerifier(w.vkey)
	n, err := note.Open([]byte(served), note.VerifierList(logV, wV))
	if err != nil || len(n.Sigs) != 2 {
		t.Fatalf("served checkpoint with cosignature: %v %+v\n%s", err, n, served)
	}
}

// TestStreamHistoryPages: the history is served in pages of at most
// MaxPageSize events, each with its proof, continued by next_cursor.
func TestStreamHistoryPages(t *testing.T) {
	t.Parallel()
	s := newLogServer(t, newKey(t, "history"))
	cp := s.grow(t, 100)
	s.grow(t, 5) // the history below is of the first checkpoint
	stream := logtest.Stream(3)
	var want []int64
	for i, ev := range s.Events(t)[:cp.TreeSize] {
		if ev.Stream == stream {
			want = append(want, int64(i))
		}
	}
	if len(want) < 7 {
		t.Fatalf("stream %s has %d events, want more pages", stream, len(want))
	}
	base := fmt.Sprintf("%s/streams/%s/history?checkpoint=%d", s.base, stream, cp.TreeSize)
	var got []int64
	cursor := ""
	for pages := 0; ; pages++ {
		var h audit.StreamHistory
		getJSON(t, base+"&limit=3&cursor="+cursor, &h)
		if h.Checkpoint.TreeSize != cp.TreeSize || len(h.Items) > 3 {
			t.Fatalf("page %d: checkpoint %d, %d events", pages, h.Checkpoint.TreeSize, len(h.Items))
		}
		for _, e := range h.Items {
			leaf, _ := tlog.ParseHash(e.LeafHash)
			var proof tlog.RecordProof
			for _, p := range e.Proof {
				hh, _ := tlog.ParseHash(p)
				proof = append(proof, hh)
			}
			if err := tlog.CheckRecord(proof, cp.TreeSize, cp.RootHash, e.LeafIndex, leaf); err != nil {
				t.Errorf("leaf %d: %v", e.LeafIndex, err)
			}
			got = append(got, e.LeafIndex)
		}
		if h.NextCursor == nil {
			break
		}
		cursor = *h.NextCursor
		if pages > len(want) {
			t.Fatal("paging does not end")
		}
	}
	if !slices.Equal(got, want) {
		t.Fatalf("paged through leaves %v, want %v", got, want)
	}
	// Without a limit, a page is the default size (50 here): all of them.
	var h audit.StreamHistory
	getJSON(t, base, &h)
	if len(h.Items) != len(want) || h.NextCursor != nil {
		t.Errorf("one default page: %d events, next cursor %v; want %d and none", len(h.Items), h.NextCursor, len(want))
	}
	if resp := get(t, s.base+"/streams/"+stream+"/history?limit=51"); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("limit=51: status %d, want 400", resp.StatusCode)
	}
	if resp := get(t, s.base+"/streams/"+stream+"/history?cursor=x"); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("cursor=x: status %d, want 400", resp.StatusCode)
	}
}
