package projections

// SetRatingSaveChunks sets the largest chunk, in ratings and in bytes of
// JSON, in which a level's ratings are written; the returned func puts the
// old sizes back.
func SetRatingSaveChunks(rows, bytes int) (restore func()) {
	oldRows, oldBytes := saveChunkRows.Swap(int64(rows)), saveChunkBytes.Swap(int64(bytes))
	return func() { saveChunkRows.Store(oldRows); saveChunkBytes.Store(oldBytes) }
}
