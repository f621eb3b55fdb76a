package bagsharded

// SetMinWork sets minWork for a test and returns a function restoring it.
func SetMinWork(n int) func() {
	old := minWork
	minWork = n
	return func() { minWork = old }
}

// SetParallelPlan sets parallelPlan for a test and returns a function
// restoring it.
func SetParallelPlan(on bool) func() {
	old := parallelPlan
	parallelPlan = on
	return func() { parallelPlan = old }
}
