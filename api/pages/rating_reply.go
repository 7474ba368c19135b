package pages

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"promiseledger/api/session"
	"promiseledger/commands"
	"promiseledger/domain"
	"promiseledger/projections"
)

// A deputy's reply to their rating (deputy.rating_replied.v1): shown on
// the deputy's page under the rating, with every earlier reply; the form
// is the deputy's own, for the rating shown, until they have answered it.

var ratingReplyFields = []string{"method", "method_version", "period_start", "period_end", "reply", "evidence_url", "evidence_description", "evidence_sha256"}

// ratingReplies is the section of the deputy's replies to their ratings,
// and the form to answer the rating shown (cur), for the deputy alone.
func (h *Handler) ratingReplies(q *request, id string, cur *projections.DeputyRatingView) (section, *pageForm, error) {
	t := func(k string) string { return h.cat.t(q.lang, k) }
	sec := section{ID: "rating-replies", Heading: t("deputy.rating_replies"), Paras: []string{t("deputy.rating_replies_note")}}
	replies, version, err := projections.DeputyRatingReplies(q.ctx, h.cfg.DB, id)
	if err != nil {
		return sec, nil, err
	}
	for _, r := range slices.Backward(replies) {
		if q.axes.KnownAt != nil && r.RecordedAt.After(*q.axes.KnownAt) {
			continue
		}
		it := timelineItem{Kind: t("deputy.rating_reply"), Badge: "status", EventID: r.EventID.String(), Facts: []fact{
			{Term: t("event.recorded"), Value: stamp(r.RecordedAt), Nowrap: true},
			{Term: t("col.period"), Value: r.Period.Start.String() + " – " + r.Period.End.String(), Nowrap: true},
			{Term: t("col.method_version"), Value: fmt.Sprintf("%s v%d", r.Method, r.Version)},
			{Term: t("deputy.rating_reply"), Value: r.Reply},
		}}
		if ev := r.Evidence; ev.URL != "" || ev.Description != "" {
			f := fact{Term: t("event.evidence"), Value: ev.Description}
			if f.Value == "" {
				f.Value = ev.URL
			}
			if strings.HasPrefix(ev.URL, "https://") || strings.HasPrefix(ev.URL, "http://") {
				f.URL = ev.URL
			}
			it.Facts = append(it.Facts, f)
		}
		sec.Timeline = append(sec.Timeline, it)
	}
	if len(sec.Timeline) == 0 {
		sec.Paras = append(sec.Paras, t("deputy.no_rating_replies"))
	}
	if cur == nil || q.sess == nil || q.hasAxes() || q.sess.Actor().ID != id {
		return sec, nil, nil
	}
	answered := slices.ContainsFunc(replies, func(r domain.RatingReply) bool { return r.About(cur.Method, cur.Version, cur.Period) })
	if answered && (q.posted == nil || q.posted.name != "rating_reply") {
		return sec, nil, nil
	}
	f := h.buildForm(q, "rating_reply", "/deputies/"+id+"/rating_reply", version, []formField{
		{Name: "reply", Label: t("form.reply"), Type: "textarea"},
		{Name: "evidence_url", Label: t("form.evidence_url"), Hint: t("form.evidence_url_hint"), Type: "url"},
		{Name: "evidence_description", Label: t("form.evidence_description"), Type: "textarea"},
		{Name: "evidence_sha256", Label: t("form.evidence_sha256"), Hint: t("form.evidence_sha256_hint"), Type: "text"},
	})
	f.Lead = fmt.Sprintf(t("form.rating_reply.lead_unrated"), cur.Period.Start.String(), cur.Period.End.String())
	if cur.Score != nil {
		f.Lead = fmt.Sprintf(t("form.rating_reply.lead"), cur.Period.Start.String(), cur.Period.End.String(), num(*cur.Score))
	}
	f.Hidden = append(f.Hidden, hiddenField{"method", cur.Method}, hiddenField{"method_version", strconv.Itoa(cur.Version)},
		hiddenField{"period_start", cur.Period.Start.String()}, hiddenField{"period_end", cur.Period.End.String()})
	return sec, &f, nil
}

// ownPage: a deputy replies on their own page only (the domain checks the
// actor is the deputy as well).
func ownPage(_ context.Context, _ *Handler, s *session.Session, id string, _ url.Values) error {
	if id != s.Actor().ID {
		return &pageError{status: http.StatusForbidden, key: "error.forbidden", detail: "only the deputy may reply to their rating, on their own page"}
	}
	return nil
}

func runRatingReply(ctx context.Context, h *Handler, hd commands.Header, id string, v url.Values, fe *formErrors) (commands.Result, error) {
	if strings.TrimSpace(v.Get("reply")) == "" {
		fe.add("reply", "form.err.rating_reply")
		return commands.Result{}, errFormInvalid
	}
	version, err := strconv.Atoi(v.Get("method_version"))
	// The rating answered is in hidden fields: broken, the form is not
	// this page's, and no field of it could say so.
	var hidden formErrors
	start, end := hidden.date(v, "period_start"), hidden.date(v, "period_end")
	if err != nil || start == nil || end == nil {
		return commands.Result{}, &pageError{status: http.StatusBadRequest, key: "error.bad_request", detail: "the form lacks the rating it answers: reload the page"}
	}
	return h.cfg.Commands.ReplyToRating.Handle(ctx, commands.ReplyToRating{Header: hd, DeputyID: id, Method: strings.TrimSpace(v.Get("method")),
		Version: version, Period: domain.Period{Start: *start, End: *end}, Reply: v.Get("reply"), Evidence: evidenceOf(v)})
}
