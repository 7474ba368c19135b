package postgres

// QueueLen is how many appends wait in stream's group-commit queue.
func QueueLen(s *Store, stream string) int { return len(s.group.queueOf(stream)) }
