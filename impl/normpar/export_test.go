package normpar

// Eager returns k taking the parallel path on inputs of any size.
func Eager(k Impl) Impl {
	k.minWork = 1
	return k
}
