package bagsharded

// SetMinWork sets minWork for a test and returns a function restoring it.
func SetMinWork(n int) func() {
	old := minWork
	minWork = n
	return func() { minWork = old }
}
