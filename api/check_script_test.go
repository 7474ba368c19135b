package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"promiseledger/projections"
	"promiseledger/projections/translog"
)

// checkpointSize is the tree size of the latest signed checkpoint.
func (f *fullEnv) checkpointSize() int64 {
	f.t.Helper()
	c, err := translog.LatestCheckpoint(f.ctx, f.db)
	if err != nil {
		f.t.Fatal(err)
	}
	return c.TreeSize
}

// runCheckScript runs docs/check/recompute.py, the independent check a
// journalist runs, against url for one level at one checkpoint.
func runCheckScript(t *testing.T, python, url, level string, size int64) (string, error) {
	t.Helper()
	script, err := filepath.Abs(filepath.Join("..", "docs", "check", "recompute.py"))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.CommandContext(t.Context(), python, script, "--url", url, "--level", level, "--checkpoint", strconv.FormatInt(size, 10))
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err = cmd.Run()
	return out.String(), err
}

// TestIndependentCheckScript: the dependency-free script in docs/check
// recomputes, from the served tlog-tiles (checkpoint and entry bundles,
// whose RFC 6962 root it checks) and the documented rules alone, the
// figures of both levels at two signed checkpoints, and finds them equal,
// digit for digit, to what /v1/figures?checkpoint= answers — including a
// tie (13.875 → 13.88), a third, a decrease target, a correction, a
// re-targeted weight and a cancellation. An answer at a checkpoint stays
// the same after the log grows past it; a server that publishes 13.87
// instead, or alters one byte of an entry bundle, fails the check.
func TestIndependentCheckScript(t *testing.T) {
	t.Parallel()
	python, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("python3 is not installed: the independent check (docs/check/recompute.py) cannot run here")
	}
	f := newFullEnv(t)
	w := f.w
	for _, rm := range []string{w.republicRoadmap, w.rm2} {
		f.must(http.StatusOK, req{method: "POST", path: "/v1/roadmaps/" + rm + "/activate", token: "admin"})
	}
	add := func(roadmap string, body map[string]any) string {
		body["title"], body["deadline"] = text("Measure"), "2021-12-31"
		return f.created(req{method: "POST", path: "/v1/roadmaps/" + roadmap + "/indicators", token: "admin", body: body})
	}
	report := func(id string, body map[string]any) string {
		body["evidence"] = evidence
		var out writeResult
		f.must(http.StatusCreated, req{method: "POST", path: "/v1/indicators/" + id + "/reports", token: "admin", body: body}).decode(t, &out)
		return out.ReportID
	}
	// Republican: three measures at 0.74 and an idle milestone of weight
	// 13: weighted-progress 2.22 / 16 = 13.875 %.
	var r74 []string
	for range 3 {
		id := add(w.republicRoadmap, map[string]any{"kind": "numeric", "baseline": 0, "target": 100, "unit": text("km"), "weight": 1})
		report(id, map[string]any{"value": 74})
		r74 = append(r74, id)
	}
	idle := add(w.republicRoadmap, map[string]any{"kind": "milestone", "weight": 13})
	// Regional: the world's numeric (weight 2) at half, a decrease target
	// 10 → 4 at 7 (half, weight 0.5), a third of weight 1.
	half := report(w.numeric, map[string]any{"value": 50})
	dec := add(w.rm1, map[string]any{"kind": "numeric", "baseline": 10, "target": 4, "unit": text("cases"), "weight": 0.5})
	report(dec, map[string]any{"value": 7})
	third := add(w.rm2, map[string]any{"kind": "numeric", "baseline": 0, "target": 3, "unit": text("schools"), "weight": 1})
	report(third, map[string]any{"value": 1})
	f.project()
	first := f.checkpointSize()

	atFirst := func() string {
		t.Helper()
		var out figuresResponse
		f.must(http.StatusOK, req{method: "GET", path: fmt.Sprintf("/v1/figures?scope=level&id=republican&checkpoint=%d", first)}).decode(t, &out)
		if out.Provenance.Basis != "checkpoint" || out.Provenance.Checkpoint == nil || out.Provenance.Checkpoint.TreeSize != first {
			t.Errorf("provenance at checkpoint %d: %+v", first, out.Provenance)
		}
		b, _ := json.Marshal(out.Figures)
		return string(b)
	}
	before := atFirst()
	if !strings.Contains(before, `"percent":13.88`) {
		t.Errorf("republican at checkpoint %d: %s, want weighted-progress 13.88 (2.22 / 16, half to even)", first, before)
	}

	// The log grows: the milestone is done, a weight is re-targeted, a
	// measure cancelled, a report corrected.
	report(idle, map[string]any{"done": true})
	f.must(http.StatusOK, req{method: "POST", path: "/v1/indicators/" + r74[0] + "/retarget", token: "admin",
		body: map[string]any{"weight": 0.37, "reason": "the ministry re-weighted the road programme"}})
	f.must(http.StatusOK, req{method: "POST", path: "/v1/indicators/" + dec + "/cancel", token: "admin",
		body: map[string]any{"reason": "merged into the district's health measure"}})
	f.must(http.StatusCreated, req{method: "POST", path: "/v1/indicators/" + w.numeric + "/corrections", token: "admin",
		body: map[string]any{"corrects": half, "value": 100, "evidence": evidence, "reason": "the protocol missed the last section"}})
	// Enough repeated reports (the same value) that the second checkpoint
	// spans a full entry bundle and a partial one.
	for range 240 {
		report(third, map[string]any{"value": 1})
	}
	f.project()
	second := f.checkpointSize()
	if second <= 256 {
		t.Fatalf("the second checkpoint has %d leaves: the fixture does not reach a second entry bundle", second)
	}
	if second <= first {
		t.Fatalf("the second checkpoint %d does not follow %d", second, first)
	}
	if after := atFirst(); after != before {
		t.Errorf("figures at checkpoint %d changed when the log grew:\nbefore %s\nafter  %s", first, before, after)
	}

	srv := httptest.NewServer(f.handler)
	defer srv.Close()
	for _, size := range []int64{first, second} {
		for _, level := range []string{"republican", "regional"} {
			out, err := runCheckScript(t, python, srv.URL, level, size)
			t.Logf("recompute.py --level %s --checkpoint %d:\n%s", level, size, out)
			if err != nil || !strings.HasSuffix(strings.TrimSpace(out), "match") || strings.Contains(out, "MISMATCH") {
				t.Errorf("recompute.py --level %s --checkpoint %d: %v\n%s", level, size, err, out)
			}
		}
	}
	// A server off by 0.01 at the tie fails the check (exit status 1).
	lying := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		rec := httptest.NewRecorder()
		f.handler.ServeHTTP(rec, r)
		body := rec.Body.Bytes()
		if r.URL.Path == "/v1/figures" {
			body = bytes.ReplaceAll(body, []byte(`"percent":13.88`), []byte(`"percent":13.87`))
		}
		rw.Header().Set("Content-Type", rec.Header().Get("Content-Type"))
		rw.WriteHeader(rec.Code)
		rw.Write(body) //nolint:errcheck // test server
	}))
	defer lying.Close()
	out, err := runCheckScript(t, python, lying.URL, "republican", first)
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 1 || !strings.Contains(out, "MISMATCH") {
		t.Errorf("recompute.py against a server publishing 13.87: %v, want exit status 1 naming the mismatch\n%s", err, out)
	}

	// A server whose entry bundle differs from the signed log by one byte
	// fails the check before any figure is compared (exit status 1).
	tampered := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		rec := httptest.NewRecorder()
		f.handler.ServeHTTP(rec, r)
		body := bytes.Clone(rec.Body.Bytes())
		if strings.HasPrefix(r.URL.Path, "/v1/audit/tlog/tile/entries/000") && len(body) > 0 {
			// The last byte is a digit of the last leaf's stored-at
			// time: the leaf still decodes, only its hash changes.
			body[len(body)-1] ^= 1
		}
		rw.Header().Set("Content-Type", rec.Header().Get("Content-Type"))
		rw.WriteHeader(rec.Code)
		rw.Write(body) //nolint:errcheck // test server
	}))
	defer tampered.Close()
	out, err = runCheckScript(t, python, tampered.URL, "regional", first)
	if !errors.As(err, &exit) || exit.ExitCode() != 1 || !strings.Contains(out, "root MISMATCH") {
		t.Errorf("recompute.py against a server altering one entry byte: %v, want exit status 1 naming the root mismatch\n%s", err, out)
	}

	// The figures did move between the checkpoints, so agreeing at both
	// means something.
	var a, b figuresResponse
	f.must(http.StatusOK, req{method: "GET", path: fmt.Sprintf("/v1/figures?scope=level&id=regional&checkpoint=%d", first)}).decode(t, &a)
	f.must(http.StatusOK, req{method: "GET", path: fmt.Sprintf("/v1/figures?scope=level&id=regional&checkpoint=%d", second)}).decode(t, &b)
	if fmt.Sprint(a.Figures[1].Percent) == fmt.Sprint(b.Figures[1].Percent) {
		t.Errorf("regional weighted-progress is the same at both checkpoints (%v): the fixture does not exercise the cut", *a.Figures[1].Percent)
	}
}

// TestFiguresAtACheckpointRefuseWhatIsNotSigned: checkpoint= must be the
// tree size of a signed checkpoint; anything else is a 400 naming it.
func TestFiguresAtACheckpointRefuseWhatIsNotSigned(t *testing.T) {
	t.Parallel()
	f := newFullEnv(t)
	size := f.checkpointSize()
	for _, v := range []string{"0", "-1", "abc", "01", "1.5", strconv.FormatInt(size+1, 10), strconv.FormatInt(size-1, 10), "9223372036854775807", "99999999999999999999"} {
		for _, path := range []string{"/v1/figures?scope=all&checkpoint=" + v, "/v1/figures/series?from=2021-01-01&to=2021-01-31&checkpoint=" + v} {
			res := f.do(req{method: "GET", path: path})
			if res.status != http.StatusBadRequest || !slicesContain(res.fields(), "checkpoint") {
				t.Errorf("GET %s: %s, want 400 naming checkpoint", path, res)
			}
		}
	}
	// The signed one answers, and names itself.
	var out figuresResponse
	f.must(http.StatusOK, req{method: "GET", path: "/v1/figures?scope=all&checkpoint=" + strconv.FormatInt(size, 10)}).decode(t, &out)
	if out.Provenance.Checkpoint == nil || out.Provenance.Checkpoint.TreeSize != size || out.Provenance.Checkpoint.Note == "" ||
		!out.Provenance.AsOf.Time().Equal(out.Provenance.Checkpoint.SignedAt) {
		t.Errorf("provenance: %+v", out.Provenance)
	}
	// Live answers name the latest checkpoint and the instant "now" meant.
	var live figuresResponse
	f.must(http.StatusOK, req{method: "GET", path: "/v1/figures?scope=all"}).decode(t, &live)
	if live.Provenance.Basis != "live" || live.Provenance.Checkpoint == nil || live.Provenance.Checkpoint.TreeSize != size ||
		live.Provenance.AsOf.Time().IsZero() || !live.Provenance.AsOf.Time().Equal(live.Provenance.ComputedAt) || len(live.Provenance.Methods) != len(projections.Methods) {
		t.Errorf("live provenance: %+v", live.Provenance)
	}
	var rm roadmapDetail
	f.must(http.StatusOK, req{method: "GET", path: "/v1/roadmaps/" + f.w.rm1}).decode(t, &rm)
	if rm.Provenance.Basis != "live" || rm.Provenance.Checkpoint == nil || rm.Provenance.Checkpoint.TreeSize != size || len(rm.Provenance.Methods) != 2 {
		t.Errorf("roadmap provenance: %+v", rm.Provenance)
	}
}

func slicesContain(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}
