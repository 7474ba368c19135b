package councils

// RoutePatterns lists the mux patterns of the route table, for tests.
func RoutePatterns() []string {
	var out []string
	for _, rt := range routeTable() {
		out = append(out, rt.method+" "+rt.pattern)
	}
	return out
}
