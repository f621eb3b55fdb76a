//go:build race

package sorted

// The race detector makes sync.Pool drop items at random, so pooled
// workspaces are reallocated and allocation counts mean nothing.
func init() { raceEnabled = true }
