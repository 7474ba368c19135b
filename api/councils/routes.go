package councils

import (
	"net/http"
	"strings"

	"promiseledger/api/apidoc"
	"promiseledger/api/kernel"
	"promiseledger/domain"
	"promiseledger/projections"
)

// route is one entry of the route table: the mux pattern is method + " " +
// pattern, and OpenAPIPaths describes exactly these (a test checks both).
type route struct {
	method  string
	pattern string
	handler func(*server) http.Handler
	op      operation
}

// operation is what the OpenAPI document says of a route.
type operation struct {
	id      string
	summary string
	tag     string
	// roles, when set, are the token roles that may call: the route's
	// policy checks exactly these (the same variable), and the document
	// says them as x-roles. access says who may call otherwise (membership,
	// being the respondent); neither set: public.
	roles   []string
	access  string
	params  []apidoc.Param
	body    any // a value of the request body's type; nil: no body
	created bool
	result  any // a value of the answer's type (reads)
	// errs lists the problem statuses beside 400/500.
	errs []int
}

func readRoute(f func(*server, http.ResponseWriter, *http.Request) error) func(*server) http.Handler {
	return func(s *server) http.Handler {
		return s.read(func(w http.ResponseWriter, r *http.Request) error { return f(s, w, r) })
	}
}

// adminOnly: the routes that record a council's or a deputy's register
// entries and rating methods.
var adminOnly = []string{RoleAdmin}

// routeTable lists every route. Writes check roles or membership in their
// policy; reads are public except /v1/me/rating.
func routeTable() []route {
	w := func(f func(*server) http.Handler) func(*server) http.Handler { return f }
	r := readRoute
	const (
		members    = "a current member of the council (the actor's id among its members)"
		respondent = "a respondent of the assessment: the indicator's responsible person or a responsible deputy or official of its roadmap"
	)
	errsWrite := []int{401, 403, 404, 409, 413, 415, 422}
	return []route{
		// Public councils.
		{"GET", "/v1/councils", r((*server).listCouncils),
			operation{id: "listCouncils", summary: "List public councils", tag: "councils", params: []apidoc.Param{levelParam, katoParam, withinParam, limitParam, cursorParam},
				result: kernel.Page[projections.CouncilSummary]{}}},
		{"POST", "/v1/councils", w((*server).registerCouncil),
			operation{id: "registerCouncil", summary: "Register a public council of a territory", tag: "councils", roles: adminOnly, created: true,
				body: registerCouncilBody{}, errs: errsWrite}},
		{"GET", "/v1/councils/{id}", r((*server).getCouncil),
			operation{id: "getCouncil", summary: "A public council", tag: "councils", params: []apidoc.Param{councilIDParam}, result: projections.CouncilSummary{}, errs: []int{404}}},
		{"GET", "/v1/councils/{id}/members", r((*server).councilMembers),
			operation{id: "listCouncilMembers", summary: "A council's members (as of a time; with former=true, those who left too)", tag: "councils",
				params: []apidoc.Param{councilIDParam, asOfParam, boolParam("former", "Include memberships that had ended.")}, result: councilMembersAnswer{}, errs: []int{404}}},
		{"POST", "/v1/councils/{id}/members", w((*server).joinCouncil),
			operation{id: "joinCouncil", summary: "Add a member (id, role, public display name only)", tag: "councils", roles: adminOnly, created: true,
				params: []apidoc.Param{councilIDParam}, body: joinCouncilBody{}, errs: errsWrite}},
		{"DELETE", "/v1/councils/{id}/members/{member_id}", w((*server).leaveCouncil),
			operation{id: "leaveCouncil", summary: "End a membership (reason required)", tag: "councils", roles: adminOnly,
				params: []apidoc.Param{councilIDParam, pathParam("member_id", "The member's id.")}, body: reasonBody{}, errs: errsWrite}},
		{"GET", "/v1/councils/{id}/recommendations", r((*server).listRecommendations),
			operation{id: "listCouncilRecommendations", summary: "A council's recommendations", tag: "recommendations",
				params: append([]apidoc.Param{councilIDParam}, recommendationListParams...), result: kernel.Page[projections.RecommendationView]{}, errs: []int{404}}},
		{"POST", "/v1/councils/{id}/recommendations", w((*server).draftRecommendation),
			operation{id: "draftRecommendation", summary: "Draft a recommendation to a state body", tag: "recommendations", access: members, created: true,
				params: []apidoc.Param{councilIDParam}, body: draftBody{}, errs: errsWrite}},
		{"POST", "/v1/councils/{id}/assessments", w((*server).recordAssessment),
			operation{id: "recordAssessment", summary: "Assess an indicator's reported status", tag: "assessments", access: members, created: true,
				params: []apidoc.Param{councilIDParam}, body: assessBody{}, errs: errsWrite}},
		{"GET", "/v1/councils/{id}/league", r((*server).councilLeague),
			operation{id: "councilLeague", summary: "League table of the deputies of a council: a public council's maslikhat (the Mazhilis for the republic) or an assembly id (mazhilis, maslikhat-{kato})",
				tag: "ratings", params: append([]apidoc.Param{pathParam("id", "A public council's id, or an assembly id.")}, leagueParams...), result: leagueTable{}, errs: []int{404}}},

		// Recommendations.
		{"GET", "/v1/recommendations", r((*server).listRecommendations),
			operation{id: "listRecommendations", summary: "Recommendations by council, state body and status, now or as of a time", tag: "recommendations",
				params: append([]apidoc.Param{queryParam("council_id", "A council's id.")}, recommendationListParams...), result: kernel.Page[projections.RecommendationView]{}}},
		{"GET", "/v1/recommendations/overdue", r((*server).overdueRecommendations),
			operation{id: "overdueRecommendations", summary: "Recommendations whose answer is overdue (today, or on the as_of date)", tag: "recommendations",
				params: overdueListParams, result: kernel.Page[projections.RecommendationView]{}}},
		{"GET", "/v1/recommendations/{id}", r((*server).getRecommendation),
			operation{id: "getRecommendation", summary: "A recommendation, now or as of a time", tag: "recommendations",
				params: []apidoc.Param{recommendationIDParam, asOfParam, knownAtParam}, result: projections.RecommendationView{}, errs: []int{404}}},
		{"POST", "/v1/recommendations/{id}/submit", w((*server).submitRecommendation),
			operation{id: "submitRecommendation", summary: "Submit to the state body, with a response deadline (default: 30 days)", tag: "recommendations",
				access: members, params: []apidoc.Param{recommendationIDParam}, body: submitBody{}, errs: errsWrite}},
		{"POST", "/v1/recommendations/{id}/acknowledge", w((*server).acknowledgeRecommendation),
			operation{id: "acknowledgeRecommendation", summary: "Record that the body registered it", tag: "recommendations", roles: stateBodyWriters,
				params: []apidoc.Param{recommendationIDParam}, body: acknowledgeBody{}, errs: errsWrite}},
		{"POST", "/v1/recommendations/{id}/answer", w((*server).answerRecommendation),
			operation{id: "answerRecommendation", summary: "Record the body's answer (accepted, partially_accepted, rejected) with its reply and evidence; not before submission",
				tag: "recommendations", roles: stateBodyWriters, params: []apidoc.Param{recommendationIDParam}, body: answerBody{}, errs: errsWrite}},
		{"POST", "/v1/recommendations/{id}/answer/corrections", w((*server).correctAnswer),
			operation{id: "correctRecommendationAnswer", summary: "Correct a recorded answer (reason required)", tag: "recommendations", roles: stateBodyWriters, created: true,
				params: []apidoc.Param{recommendationIDParam}, body: correctAnswerBody{}, errs: errsWrite}},
		{"POST", "/v1/recommendations/{id}/judgement", w((*server).judgeRecommendation),
			operation{id: "judgeRecommendation", summary: "Judge whether it was implemented (a revision needs a reason)", tag: "recommendations", access: members,
				params: []apidoc.Param{recommendationIDParam}, body: judgeBody{}, errs: errsWrite}},
		{"POST", "/v1/recommendations/{id}/withdraw", w((*server).withdrawRecommendation),
			operation{id: "withdrawRecommendation", summary: "Withdraw it before the answer (reason required)", tag: "recommendations", access: members,
				params: []apidoc.Param{recommendationIDParam}, body: reasonBody{}, errs: errsWrite}},
		{"POST", "/v1/recommendations/{id}/dissents", w((*server).attachDissent),
			operation{id: "attachDissent", summary: "Put your dissenting opinion on the record (once)", tag: "recommendations", access: members, created: true,
				params: []apidoc.Param{recommendationIDParam}, body: dissentBody{}, errs: errsWrite}},
		{"GET", "/v1/state-bodies/rates", r((*server).stateBodyRates),
			operation{id: "stateBodyRates", summary: "Answer, on-time, acceptance and implementation rates per state body, with their counts", tag: "recommendations",
				params: []apidoc.Param{queryParam("body_id", "One body's id."), asOfParam, knownAtParam}, result: stateBodyRatesAnswer{}}},

		// Assessments.
		{"GET", "/v1/assessments", r((*server).listAssessments),
			operation{id: "listAssessments", summary: "Assessments by council, indicator or respondent, newest first", tag: "assessments",
				params: []apidoc.Param{queryParam("council_id", "A council's id."), queryParam("indicator_id", "An indicator's id."),
					queryParam("respondent_id", "A respondent's person id."), limitParam}, result: kernel.Page[domain.AssessmentState]{}}},
		{"GET", "/v1/assessments/{id}", r((*server).getAssessment),
			operation{id: "getAssessment", summary: "An assessment with its replies", tag: "assessments", params: []apidoc.Param{assessmentIDParam}, result: domain.AssessmentState{}, errs: []int{404}}},
		{"POST", "/v1/assessments/{id}/replies", w((*server).replyToAssessment),
			operation{id: "replyToAssessment", summary: "Reply on the record (right of reply), once", tag: "assessments", access: respondent, created: true,
				params: []apidoc.Param{assessmentIDParam}, body: replyBody{}, errs: errsWrite}},
		{"POST", "/v1/assessments/{id}/withdraw", w((*server).withdrawAssessment),
			operation{id: "withdrawAssessment", summary: "Withdraw an assessment (reason required)", tag: "assessments", access: members,
				params: []apidoc.Param{assessmentIDParam}, body: reasonBody{}, errs: errsWrite}},

		// Deputies.
		{"GET", "/v1/deputies", r((*server).listDeputies),
			operation{id: "listDeputies", summary: "Deputies by level or assembly", tag: "deputies",
				params: []apidoc.Param{levelParam, queryParam("assembly_id", "An assembly id: mazhilis or maslikhat-{kato}."), limitParam, cursorParam},
				result: kernel.Page[projections.DeputySummary]{}}},
		{"POST", "/v1/deputies", w((*server).registerDeputy),
			operation{id: "registerDeputy", summary: "Register a deputy of the Mazhilis or a maslikhat", tag: "deputies", roles: adminOnly, created: true,
				body: registerDeputyBody{}, errs: errsWrite}},
		{"GET", "/v1/deputies/{id}", r((*server).getDeputy),
			operation{id: "getDeputy", summary: "A deputy: faction periods, responsibilities, activity counts", tag: "deputies",
				params: []apidoc.Param{deputyIDParam}, result: projections.DeputySummary{}, errs: []int{404}}},
		{"POST", "/v1/deputies/{id}/faction", w((*server).joinFaction),
			operation{id: "joinFaction", summary: "Record that the deputy joined the faction", tag: "deputies", roles: adminOnly,
				params: []apidoc.Param{deputyIDParam}, body: factionBody{}, errs: errsWrite}},
		{"DELETE", "/v1/deputies/{id}/faction", w((*server).leaveFaction),
			operation{id: "leaveFaction", summary: "Record that the deputy left the faction (reason required)", tag: "deputies", roles: adminOnly,
				params: []apidoc.Param{deputyIDParam}, body: reasonBody{}, errs: errsWrite}},
		{"POST", "/v1/deputies/{id}/responsibilities", w((*server).assignResponsibility),
			operation{id: "assignDeputyResponsibility", summary: "Make the deputy answer for a roadmap or an indicator", tag: "deputies", roles: adminOnly,
				params: []apidoc.Param{deputyIDParam}, body: responsibilityBody{}, errs: errsWrite}},
		{"DELETE", "/v1/deputies/{id}/responsibilities/{subject}/{subject_id}", w((*server).releaseResponsibility),
			operation{id: "releaseDeputyResponsibility", summary: "Release a responsibility (reason required)", tag: "deputies", roles: adminOnly,
				params: []apidoc.Param{deputyIDParam, pathParam("subject", "roadmap or indicator."), pathParam("subject_id", "The roadmap's or indicator's id.")},
				body:   reasonBody{}, errs: errsWrite}},
		{"POST", "/v1/deputies/{id}/activity", w((*server).reportActivity),
			operation{id: "reportDeputyActivity", summary: "Report activity counts for a period that has ended (counts only: nobody is named)", tag: "deputies",
				roles: activityWriters, created: true, params: []apidoc.Param{deputyIDParam}, body: activityBody{}, errs: errsWrite}},
		{"POST", "/v1/deputies/{id}/activity/{report_id}/corrections", w((*server).correctActivity),
			operation{id: "correctDeputyActivity", summary: "Correct an activity report (reason required)", tag: "deputies", roles: activityWriters, created: true,
				params: []apidoc.Param{deputyIDParam, pathParam("report_id", "The report's id (its event id).")}, body: activityCorrectionBody{}, errs: errsWrite}},
		{"POST", "/v1/deputies/{id}/rating/replies", w((*server).replyToRating),
			operation{id: "replyToRating", summary: "The deputy's reply to their rating for one period under one method version (right of reply), once", tag: "ratings",
				access: "the deputy themself (the token's actor is the deputy in the path)", created: true,
				params: []apidoc.Param{deputyIDParam}, body: ratingReplyBody{}, errs: errsWrite}},
		{"GET", "/v1/deputies/{id}/rating", r((*server).deputyRating),
			operation{id: "deputyRating", summary: "A deputy's rating: score, ranks and breakdown for the latest period, the history, and every published version side by side",
				tag: "ratings", params: []apidoc.Param{deputyIDParam, asOfParam, knownAtParam, methodParam, versionParam, ratingCheckpointParam}, result: deputyRating{}, errs: []int{404}}},

		// Ratings.
		{"GET", "/v1/ratings/league", r((*server).ratingsLeague),
			operation{id: "ratingsLeague", summary: "League table of a level", tag: "ratings",
				params: append([]apidoc.Param{levelParam.Require()}, leagueParams...),
				result: leagueTable{}, errs: []int{404}}},
		{"GET", "/v1/rating-methods", r((*server).listMethods),
			operation{id: "listRatingMethods", summary: "Every published rating method version (as of a time)", tag: "ratings",
				params: []apidoc.Param{asOfParam, knownAtParam}, result: kernel.Page[projections.PublishedMethod]{}}},
		{"POST", "/v1/rating-methods", w((*server).publishMethod),
			operation{id: "publishRatingMethod", summary: "Publish the next version of a rating method (a published version never changes)", tag: "ratings",
				roles: adminOnly, created: true, body: publishMethodBody{}, errs: errsWrite}},
		{"GET", "/v1/me/rating", r((*server).myRating),
			operation{id: "myRating", summary: "Your own rating as a deputy, with the events behind each component", tag: "ratings",
				access: "an authenticated deputy (the actor's id is the deputy's id)", params: []apidoc.Param{asOfParam, knownAtParam, methodParam, versionParam, ratingCheckpointParam},
				result: deputyRating{}, errs: []int{401, 403, 404}}},
	}
}

// patternPath turns a mux pattern into an OpenAPI path (they agree: both
// use {name}).
func patternPath(p string) string { return strings.TrimSuffix(p, "{$}") }
