package api

import "net/http"

// route is one entry of the route table: the mux pattern is method + " " +
// pattern, and the OpenAPI document must describe exactly these (a test
// checks both directions).
type route struct {
	method  string
	pattern string
	handler http.Handler
}

// routeTable lists every route. Roles are enforced by each write handler's
// policy; every read is public.
func (s *Server) routeTable() []route {
	h := func(f http.HandlerFunc) http.Handler { return f }
	return []route{
		// Catalog writes: administrators.
		{"POST", "/v1/programs", s.registerProgram()},
		{"POST", "/v1/territories", s.registerTerritory()},
		{"POST", "/v1/roadmaps", s.registerRoadmap()},
		{"POST", "/v1/roadmaps/{id}/activate", s.activateRoadmap()},
		{"POST", "/v1/roadmaps/{id}/close", s.closeRoadmap()},
		{"POST", "/v1/roadmaps/{id}/responsibles", s.assignRoadmapResponsible()},
		{"DELETE", "/v1/roadmaps/{id}/responsibles/{person_id}", s.unassignRoadmapResponsible()},
		// Measures: administrators, and officers of the roadmap.
		{"POST", "/v1/roadmaps/{id}/indicators", s.addIndicator()},
		{"POST", "/v1/indicators/{id}/reports", s.reportProgress()},
		{"POST", "/v1/indicators/{id}/corrections", s.correctReport()},
		{"POST", "/v1/indicators/{id}/retarget", s.retargetIndicator()},
		{"POST", "/v1/indicators/{id}/status", s.changeIndicatorStatus()},
		{"POST", "/v1/indicators/{id}/cancel", s.cancelIndicator()},
		{"POST", "/v1/indicators/{id}/responsible", s.assignIndicatorResponsible()},

		// Public reads.
		{"GET", "/v1/programs", h(s.listPrograms)},
		{"GET", "/v1/territories", h(s.listTerritories)},
		{"GET", "/v1/roadmaps", h(s.listRoadmaps)},
		{"GET", "/v1/roadmaps/{id}", h(s.getRoadmap)},
		{"GET", "/v1/roadmaps/{id}/history", h(s.roadmapHistory)},
		{"GET", "/v1/indicators", h(s.listIndicators)},
		{"GET", "/v1/indicators/{id}", h(s.getIndicator)},
		{"GET", "/v1/indicators/{id}/history", h(s.indicatorHistory)},
		{"GET", "/v1/figures", h(s.figures)},
		{"GET", "/v1/figures/series", h(s.figureSeries)},
		{"GET", "/v1/methods", h(s.methods)},

		// Operations.
		{"GET", "/healthz", h(s.healthz)},
		{"GET", "/readyz", h(s.readyz)},
		{"GET", "/metrics", s.metricsHandler()},
		{"GET", "/openapi.json", h(s.openAPIHandler)},
	}
}
