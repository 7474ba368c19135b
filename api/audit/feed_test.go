package audit_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"promiseledger/api/audit"
	"promiseledger/projections/translog"
	"promiseledger/projections/translog/logtest"
)

// export is what one download of GET /events.ndjson or /events.csv held.
type export struct {
	leaves []int64
	// end is the count on the end line, or -1 without one.
	end int64
}

// readExport downloads an export and stops reading, failing the test,
// once it holds more events than the log has leaves: an export that
// repeats itself fails instead of running for ever.
func readExport(t *testing.T, s *logServer, path string, format string) export {
	t.Helper()
	size, err := translog.Size(context.Background(), s.DB)
	if err != nil {
		t.Fatal(err)
	}
	resp := get(t, s.base+path)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d %s", path, resp.StatusCode, readAll(t, resp))
	}
	out := export{end: -1}
	tooMany := func() {
		t.Fatalf("GET %s: more than the %d leaves of the log; the last ones %v", path, size, out.leaves[len(out.leaves)-5:])
	}
	switch format {
	case "ndjson":
		sc := bufio.NewScanner(resp.Body)
		sc.Buffer(nil, 1<<24)
		if !sc.Scan() {
			t.Fatalf("GET %s: empty", path)
		}
		for sc.Scan() {
			var line struct {
				audit.Event
				End *audit.ExportEnd `json:"end"`
			}
			if err := json.Unmarshal(sc.Bytes(), &line); err != nil {
				t.Fatalf("GET %s: %q: %v", path, sc.Text(), err)
			}
			if out.end >= 0 {
				t.Fatalf("GET %s: a line after the end line: %s", path, sc.Text())
			}
			if line.End != nil {
				out.end = line.End.Events
				continue
			}
			if out.leaves = append(out.leaves, line.LeafIndex); int64(len(out.leaves)) > size {
				tooMany()
			}
		}
		if err := sc.Err(); err != nil {
			t.Fatal(err)
		}
	case "csv":
		br := bufio.NewReader(resp.Body)
		first, _ := br.ReadString('\n')
		if !strings.HasPrefix(first, "# promiseledger-events-v1 checkpoint ") {
			t.Fatalf("GET %s: first line %q", path, first)
		}
		// The end marker is a comment line, which csv.Reader skips: read
		// the body line by line and hand the records on.
		var body bytes.Buffer
		for {
			line, err := br.ReadString('\n')
			if rest, ok := strings.CutPrefix(line, "# end events="); ok {
				if out.end, err = strconv.ParseInt(strings.TrimSuffix(rest, "\n"), 10, 64); err != nil {
					t.Fatalf("GET %s: end line %q", path, line)
				}
				if more, _ := io.ReadAll(br); len(more) > 0 {
					t.Fatalf("GET %s: %q after the end line", path, more)
				}
				break
			}
			body.WriteString(line)
			if int64(bytes.Count(body.Bytes(), []byte("\n"))) > 2*size+2 {
				t.Fatalf("GET %s: more lines than the log could fill", path)
			}
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
		}
		recs, err := csv.NewReader(&body).ReadAll()
		if err != nil {
			t.Fatalf("GET %s: %v", path, err)
		}
		if len(recs) == 0 || recs[0][0] != "leaf_index" {
			t.Fatalf("GET %s: no header", path)
		}
		for _, rec := range recs[1:] {
			i, err := strconv.ParseInt(rec[0], 10, 64)
			if err != nil {
				t.Fatalf("GET %s: record %v", path, rec)
			}
			if out.leaves = append(out.leaves, i); int64(len(out.leaves)) > size {
				tooMany()
			}
		}
	}
	return out
}

// leavesWhere lists the leaves below size that match an SQL condition on
// translog_leaves: the reference the exports are held to.
func leavesWhere(t *testing.T, s *logServer, size int64, cond string, args ...any) []int64 {
	t.Helper()
	var out []int64
	q := `SELECT leaf_index FROM translog_leaves WHERE leaf_index < ` + strconv.FormatInt(size, 10) + ` AND ` + cond + ` ORDER BY leaf_index`
	if err := s.DB.Select(&out, q, args...); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestExportsEndAndHoldEachLeafOnceAcrossPages: both exports, with and
// without every filter, read over many pages, end with their end line
// and hold each matching leaf exactly once. They once served the first
// page again and again, without end.
func TestExportsEndAndHoldEachLeafOnceAcrossPages(t *testing.T) {
	t.Parallel()
	const page = 3
	s := newLogServerWith(t, newKey(t, "pages"), func(c *audit.Config) { c.FeedPageSize = page })
	old := s.grow(t, 60)
	latest := s.grow(t, 40)
	at := func(h int) string { return logtest.Base.Add(time.Duration(h) * time.Hour).Format(time.RFC3339) }
	for _, tc := range []struct {
		name, query string
		size        int64
		cond        string
		args        []any
	}{
		{"none", "", latest.TreeSize, "true", nil},
		{"checkpoint", fmt.Sprintf("checkpoint=%d", old.TreeSize), old.TreeSize, "true", nil},
		{"stream", "stream=" + logtest.Stream(3), latest.TreeSize, "stream = $1", []any{logtest.Stream(3)}},
		{"type", "type=indicator.progress_reported.v1", latest.TreeSize, "type = $1", []any{"indicator.progress_reported.v1"}},
		{"actor", "actor=officer-2", latest.TreeSize, "actor_id = $1", []any{"officer-2"}},
		{"effective", "effective_from=" + url.QueryEscape(at(10)) + "&effective_to=" + url.QueryEscape(at(80)), latest.TreeSize,
			"effective_at >= $1 AND effective_at < $2", []any{at(10), at(80)}},
		{"recorded", "recorded_from=" + url.QueryEscape(at(20)) + "&recorded_to=" + url.QueryEscape(at(95)), latest.TreeSize,
			"recorded_at >= $1 AND recorded_at < $2", []any{at(20), at(95)}},
		{"all_filters", fmt.Sprintf("checkpoint=%d&stream=%s&type=indicator.progress_reported.v1&effective_from=%s&recorded_to=%s",
			old.TreeSize, logtest.Stream(7), url.QueryEscape(at(2)), url.QueryEscape(at(70))), old.TreeSize,
			"stream = $1 AND effective_at >= $2 AND recorded_at < $3", []any{logtest.Stream(7), at(2), at(70)}},
	} {
		want := leavesWhere(t, s, tc.size, tc.cond, tc.args...)
		if len(want) <= 3*page {
			t.Fatalf("%s: %d matching leaves do not fill three pages of %d", tc.name, len(want), page)
		}
		for _, format := range []string{"ndjson", "csv"} {
			t.Run(tc.name+"/"+format, func(t *testing.T) {
				got := readExport(t, s, "/events."+format+"?"+tc.query, format)
				if !slices.Equal(got.leaves, want) {
					t.Errorf("leaves %v, want %v", got.leaves, want)
				}
				if got.end != int64(len(want)) {
					t.Errorf("end line counts %d, want %d", got.end, len(want))
				}
			})
		}
	}
}

// TestVerifyWholeLogBeyondTheFirstPage: at the real page size, with more
// than three pages of events, both exports end holding every leaf once,
// and Verify checks every event: an event changed beyond the first page,
// and then one near the end, are each named. Verify once read only the
// first page, again and again, and never finished.
func TestVerifyWholeLogBeyondTheFirstPage(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newLogServer(t, newKey(t, "big"))
	n := 3*translog.FeedPage + 123
	ids := s.AppendMany(t, n)
	s.CatchUp(t, 1000)
	if _, _, err := s.cp.CheckpointOnce(ctx); err != nil {
		t.Fatal(err)
	}
	for _, format := range []string{"ndjson", "csv"} {
		got := readExport(t, s, "/events."+format, format)
		if len(got.leaves) != n || got.end != int64(n) || got.leaves[n-1] != int64(n-1) {
			t.Fatalf("%s: %d leaves, end %d, want %d", format, len(got.leaves), got.end, n)
		}
	}
	var calls []audit.VerifyProgress
	cfg := s.verifyConfig(stateFile(t))
	cfg.Progress = func(p audit.VerifyProgress) { calls = append(calls, p) }
	rep, err := audit.Verify(ctx, cfg)
	if err != nil || rep.EventsChecked != int64(n) {
		t.Fatalf("before tampering: %d events checked, %v %v", rep.EventsChecked, err, rep.Findings)
	}
	if last := calls[len(calls)-1]; len(calls) < 3 || !last.Done || last.Checked != int64(n) || last.Total != int64(n) {
		t.Errorf("progress calls %v: want several, the last done at %d of %d", calls, n, n)
	}
	change := func(i int) {
		s.Tamper(t, fmt.Sprintf(`UPDATE events SET data = convert_to('{"value":-1}', 'UTF8') WHERE event_id = '%s'`, ids[i]))
		s.Republish(t)
	}
	for _, tc := range []struct {
		name   string
		change int
		want   []int64
	}{
		{"beyond_the_first_page", 1500, []int64{1500}},
		{"near_the_end", n - 2, []int64{1500, int64(n - 2)}},
	} {
		change(tc.change)
		rep, err := audit.Verify(ctx, s.verifyConfig(stateFile(t)))
		if !errors.Is(err, audit.ErrVerificationFailed) {
			t.Fatalf("%s: %v, want ErrVerificationFailed", tc.name, err)
		}
		var changed []int64
		for _, f := range rep.Findings {
			if f.Kind != translog.KindChanged || f.EventID != ids[f.LeafIndex] {
				t.Errorf("%s: unexpected finding %s", tc.name, f)
			}
			changed = append(changed, f.LeafIndex)
		}
		if !slices.Equal(changed, tc.want) || rep.EventsChecked != int64(n) {
			t.Errorf("%s: changed leaves %v after checking %d events, want %v of %d", tc.name, changed, rep.EventsChecked, tc.want, n)
		}
	}
}

// brokenExport serves the real log's checkpoint and proofs, but an
// export that breaks the leaf order after the first `good` events in the
// way named: it repeats them for ever (as the export once did), skips a
// leaf, or serves all of them and a leaf beyond the checkpoint.
func brokenExport(t *testing.T, s *logServer, how string, good int) *httptest.Server {
	t.Helper()
	real := s.srv.Client()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		resp, err := real.Get(s.srv.URL + r.URL.RequestURI())
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		defer resp.Body.Close()
		if !strings.HasSuffix(r.URL.Path, "/events.ndjson") {
			w.WriteHeader(resp.StatusCode)
			io.Copy(w, resp.Body) //nolint:errcheck
			return
		}
		b, _ := io.ReadAll(resp.Body)
		lines := strings.SplitAfter(string(b), "\n")
		header, events := lines[0], lines[1:good+1]
		io.WriteString(w, header) //nolint:errcheck
		switch how {
		case "repeats":
			for r.Context().Err() == nil {
				for _, l := range events {
					if _, err := io.WriteString(w, l); err != nil {
						return
					}
				}
			}
		case "skips":
			io.WriteString(w, strings.Join(events, "")+strings.Join(lines[good+2:], "")) //nolint:errcheck
		case "beyond":
			// Every event, then one more leaf than the checkpoint has,
			// then the end line.
			all := lines[1 : len(lines)-2]
			var e audit.Event
			json.Unmarshal([]byte(all[len(all)-1]), &e) //nolint:errcheck
			e.LeafIndex++
			extra, _ := json.Marshal(e)
			io.WriteString(w, strings.Join(all, "")+string(extra)+"\n"+lines[len(lines)-2]) //nolint:errcheck
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

// TestVerifyStopsAtTheFirstBreakInLeafOrder: a server whose export
// repeats, skips or overruns leaves gets one clear finding, at the place
// it broke, and Verify returns; it used to report a gap per repeated leaf
// (up to 10,000) and read for ever.
func TestVerifyStopsAtTheFirstBreakInLeafOrder(t *testing.T) {
	t.Parallel()
	s := newLogServer(t, newKey(t, "broken"))
	s.grow(t, 40)
	for _, tc := range []struct {
		how  string
		kind translog.MismatchKind
		leaf int64
	}{
		{"repeats", audit.KindOrder, 0},
		{"skips", audit.KindGap, 25},
		{"beyond", audit.KindIncomplete, 40},
	} {
		t.Run(tc.how, func(t *testing.T) {
			srv := brokenExport(t, s, tc.how, 25)
			cfg := s.verifyConfig(stateFile(t))
			cfg.BaseURL, cfg.HTTPClient = srv.URL+audit.PathPrefix, srv.Client()
			rep, err := audit.Verify(context.Background(), cfg)
			if !errors.Is(err, audit.ErrVerificationFailed) {
				t.Fatalf("%v, want ErrVerificationFailed", err)
			}
			if len(rep.Findings) != 1 || rep.Findings[0].Kind != tc.kind || rep.Findings[0].LeafIndex != tc.leaf {
				t.Fatalf("findings %v, want one %s at leaf %d", rep.Findings, tc.kind, tc.leaf)
			}
			t.Log(rep.Findings[0])
		})
	}
}
