package domain_test

import (
	"reflect"
	"testing"

	"promiseledger/domain"
)

// councilRoundTrips pins the stored JSON of the council, recommendation,
// assessment, deputy and rating-method events, as TestCodecRoundTrip does
// for the others: changing a field name breaks this test, as it would break
// every stored event.
var councilRoundTrips = []struct {
	event domain.Event
	json  string
}{
	{councilRegistered, `{"council_id":"` + councilID + `","territory_kato":"110000000","level":"regional","name":{"kk":"Ақмола қоғамдық кеңесі","ru":"Общественный совет Акмолинской области","en":"Akmola public council"}}`},
	{actorJoined, `{"council_id":"` + councilID + `","member_id":"officer-7","role":"chair","display_name":"Айгерим С."}`},
	{domain.CouncilMemberLeft{CouncilID: councilID, MemberID: "officer-7"}, `{"council_id":"` + councilID + `","member_id":"officer-7"}`},
	{drafted, `{"recommendation_id":"` + recommendationID + `","council_id":"` + councilID + `","title":{"kk":"Мемлекеттік сатып алу","ru":"Госзакупки","en":"Public procurement"},` +
		`"proposal":{"kk":"Конкурстарды ашық өткізу","ru":"Проводить конкурсы открыто","en":"Hold tenders in the open"},` +
		`"addressee":{"id":"akimat-110000000","name":{"kk":"Ақмола облысының әкімдігі","ru":"Акимат Акмолинской области","en":"Akmola Region akimat"}},` +
		`"links":{"roadmap_ids":["` + roadmapID + `"],"topics":["public_procurement"]}}`},
	{submitted, `{"recommendation_id":"` + recommendationID + `","response_deadline":"2021-04-01"}`},
	{acknowledged, `{"recommendation_id":"` + recommendationID + `","reference":"вх-123"}`},
	{answered, `{"recommendation_id":"` + recommendationID + `","answer_id":"a1","decision":"partially_accepted","reply":"Tenders for roads will be open from July.",` +
		`"evidence":{"url":"https://akmola.gov.kz/answers/123.pdf","description":"the akimat's letter"}}`},
	{domain.RecommendationAnswerCorrected{RecommendationID: recommendationID, AnswerID: "a2", Corrects: "a1", Answer: domain.Answer{Decision: domain.DecisionRejected, Reply: "No.", Evidence: domain.Evidence{SHA256: sha64}}},
		`{"recommendation_id":"` + recommendationID + `","answer_id":"a2","corrects":"a1","decision":"rejected","reply":"No.","evidence":{"sha256":"` + sha64 + `"}}`},
	{implemented, `{"recommendation_id":"` + recommendationID + `","verdict":"implemented","comment":"tenders are open"}`},
	{domain.RecommendationJudged{RecommendationID: recommendationID, Verdict: domain.VerdictNotImplemented, Evidence: domain.Evidence{URL: "https://x.kz/a"}},
		`{"recommendation_id":"` + recommendationID + `","verdict":"not_implemented","evidence":{"url":"https://x.kz/a"}}`},
	{domain.RecommendationWithdrawn{RecommendationID: recommendationID}, `{"recommendation_id":"` + recommendationID + `"}`},
	{domain.RecommendationDissentAttached{RecommendationID: recommendationID, MemberID: "member-2", Opinion: "Not enough."},
		`{"recommendation_id":"` + recommendationID + `","member_id":"member-2","opinion":"Not enough."}`},
	{domain.AssessmentRecorded{AssessmentID: assessmentID, CouncilID: councilID, IndicatorID: indicatorID, RoadmapID: roadmapID, ReportedStatus: domain.StatusDone,
		ReportID: "r1", Position: domain.PositionDisagree, Comment: "Not built.", Respondents: []string{"official-9"}},
		`{"assessment_id":"` + assessmentID + `","council_id":"` + councilID + `","indicator_id":"` + indicatorID + `","roadmap_id":"` + roadmapID + `",` +
			`"reported_status":"done","report_id":"r1","position":"disagree","comment":"Not built.","respondents":["official-9"]}`},
	{domain.AssessmentReplied{AssessmentID: assessmentID, ReplyID: "x1", RespondentID: "official-9", Reply: "It is."},
		`{"assessment_id":"` + assessmentID + `","reply_id":"x1","respondent_id":"official-9","reply":"It is."}`},
	{domain.AssessmentWithdrawn{AssessmentID: assessmentID}, `{"assessment_id":"` + assessmentID + `"}`},
	{deputyRegistered, `{"deputy_id":"deputy-17","display_name":"Айгерим Сейткали","assembly":{"kind":"maslikhat","territory_kato":"110000000","level":"regional"}}`},
	{factionJoined, `{"deputy_id":"deputy-17","faction":"nur-otan"}`},
	{domain.DeputyFactionLeft{DeputyID: deputyID, Faction: "nur-otan"}, `{"deputy_id":"deputy-17","faction":"nur-otan"}`},
	{domain.DeputyResponsibilityAssigned{DeputyID: deputyID, Subject: domain.ResponsibleForRoadmap, SubjectID: roadmapID},
		`{"deputy_id":"deputy-17","subject":"roadmap","subject_id":"` + roadmapID + `"}`},
	{domain.DeputyResponsibilityReleased{DeputyID: deputyID, Subject: domain.ResponsibleForIndicator, SubjectID: indicatorID},
		`{"deputy_id":"deputy-17","subject":"indicator","subject_id":"` + indicatorID + `"}`},
	{aprilReported, `{"deputy_id":"deputy-17","report_id":"rep-1","period":{"start":"2021-04-01","end":"2021-04-30"},"receptions_held":4,"people_received":37,` +
		`"appeals_handled":20,"outcomes":{"positive":15,"explained":3,"rejected":1,"pending":1}}`},
	{domain.DeputyActivityCorrected{DeputyID: deputyID, ReportID: "rep-2", Corrects: "rep-1", ActivityCounts: domain.ActivityCounts{ReceptionsHeld: 1}},
		`{"deputy_id":"deputy-17","report_id":"rep-2","corrects":"rep-1","receptions_held":1,"people_received":0,"appeals_handled":0,` +
			`"outcomes":{"positive":0,"explained":0,"rejected":0,"pending":0}}`},
	{domain.DeputyRatingReplied{DeputyID: deputyID, Method: "faction-rating", Version: 2, Period: domain.Period{Start: domain.NewDate(2021, 4, 1), End: domain.NewDate(2021, 6, 30)},
		Reply: "Receptions were suspended in May."},
		`{"deputy_id":"deputy-17","method":"faction-rating","version":2,"period":{"start":"2021-04-01","end":"2021-06-30"},"reply":"Receptions were suspended in May."}`},
	{ratingV2, `{"method":"faction-rating","version":2,"title":{"kk":"Фракция рейтингі","ru":"Рейтинг фракции","en":"Faction rating"},` +
		`"summary":"Receptions against a target, positive appeals.","formula":{"period":{"kind":"quarter","from":"2021-01-01"},"components":[` +
		`{"key":"receptions","title":{"kk":"Receptions (kk)","ru":"Receptions (ru)","en":"Receptions"},"source":"receptions_held","weight":1,"normalization":{"kind":"ratio_to_target","target":6}},` +
		`{"key":"positive","title":{"kk":"Positive decisions (kk)","ru":"Positive decisions (ru)","en":"Positive decisions"},"source":"appeals_positive_share","weight":3,"normalization":{"kind":"identity"}}],` +
		`"minimum":{"faction_days":30,"components":1,"peers":2}},"effective_from":"2022-01-01"}`},
}

// pinnedByCouncilRoundTrip lists the types councilRoundTrips covers, so
// that TestCodecRoundTrip can leave them to it.
func pinnedByCouncilRoundTrip() map[string]bool {
	out := map[string]bool{}
	for _, c := range councilRoundTrips {
		out[c.event.EventType()] = true
	}
	return out
}

func TestCouncilCodecRoundTrip(t *testing.T) {
	t.Parallel()
	meta := fullMeta()
	for _, c := range councilRoundTrips {
		typ, data, metadata, err := domain.Encode(c.event, meta)
		if err != nil {
			t.Fatalf("encode %T: %v", c.event, err)
		}
		if string(data) != c.json {
			t.Errorf("%s data:\n got %s\nwant %s", typ, data, c.json)
		}
		e, m, err := domain.Decode(typ, data, metadata)
		if err != nil {
			t.Fatalf("decode %s: %v", typ, err)
		}
		if !reflect.DeepEqual(e, c.event) || !reflect.DeepEqual(m, meta) {
			t.Errorf("%s round trip:\n got %#v\nwant %#v", typ, e, c.event)
		}
	}
	pinned := pinnedByCouncilRoundTrip()
	for _, typ := range domain.EventTypes() {
		prefix := typ[:len(typ)-len(".v1")]
		for _, p := range []string{"council.", "recommendation.", "assessment.", "deputy.", "rating."} {
			if len(prefix) > len(p) && prefix[:len(p)] == p && !pinned[typ] {
				t.Errorf("no round-trip case for %s", typ)
			}
		}
	}
}
