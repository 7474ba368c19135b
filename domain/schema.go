package domain

// The value sets of the domain's string types, and the JSON form of Date,
// as the API's generated description (api/apidoc) reads them: the lists
// live with the constants, so a new value changes the document.

// Enum lists the levels: the republic's one roadmap, and every other
// (a region's, a city's or a district's: the program's "local" roadmaps).
func (RoadmapLevel) Enum() []string { return []string{string(LevelRepublican), string(LevelRegional)} }

// Enum lists the roadmap statuses.
func (RoadmapStatus) Enum() []string {
	return []string{string(RoadmapStatusRegistered), string(RoadmapStatusActive), string(RoadmapStatusClosed)}
}

// Enum lists the roles of a roadmap's responsibles.
func (ResponsibleRole) Enum() []string { return []string{string(RoleDeputy), string(RoleOfficial)} }

// Enum lists the indicator kinds.
func (IndicatorKind) Enum() []string { return []string{string(KindMilestone), string(KindNumeric)} }

// Enum lists the directions of a numeric indicator.
func (Direction) Enum() []string {
	return []string{string(DirectionIncrease), string(DirectionDecrease)}
}

// Enum lists the indicator statuses.
func (IndicatorStatus) Enum() []string {
	return []string{string(StatusNotStarted), string(StatusInProgress), string(StatusDone), string(StatusCancelled)}
}

// Enum lists the program kinds.
func (ProgramKind) Enum() []string { return []string{string(ProgramMain), string(ProgramYouth)} }

// JSONSchema: a Date is written YYYY-MM-DD.
func (Date) JSONSchema() map[string]any {
	return map[string]any{"type": "string", "format": "date", "description": "A calendar date, YYYY-MM-DD."}
}

// Enum lists a recommendation's statuses, in lifecycle order.
func (RecommendationStatus) Enum() []string {
	var out []string
	for _, s := range RecommendationStatuses() {
		out = append(out, string(s))
	}
	return out
}
