package gradcheck_test

import (
	"fmt"

	"github.com/embgrad/embgrad"
	"github.com/embgrad/embgrad/gradcheck"
)

// rowMajor is an outside user's kernel: it implements only the public
// embgrad.Kernel interface, validating with embgrad.Validate and adding each
// position's gradient row into its table row.
type rowMajor struct{}

func (rowMajor) Name() string { return "row-major" }

func (rowMajor) Backward(dst []float32, V, D int, ids []int32, gradOut []float32, opt embgrad.Options) error {
	if err := embgrad.Validate(dst, V, D, ids, gradOut, opt); err != nil {
		return err
	}
	count := map[int32]float32{}
	for _, id := range ids {
		if !opt.Skips(id) {
			count[id]++
		}
	}
	for i, id := range ids {
		if opt.Skips(id) {
			continue
		}
		s := float32(1)
		if opt.ScaleGradByFreq {
			s = 1 / count[id]
		}
		row, g := dst[int(id)*D:int(id)*D+D], gradOut[i*D:i*D+D]
		for j := range row {
			row[j] += s * g[j]
		}
	}
	return nil
}

// An outside kernel is verified with gradcheck.Check, which returns every
// failure joined (nil when all checks pass). In a test file the same is one
// line: func TestGradcheck(t *testing.T) { gradcheck.Test(t, rowMajor{}) }.
func Example() {
	if err := gradcheck.Check(rowMajor{}, gradcheck.Config{Short: true}); err != nil {
		fmt.Println(err)
		return
	}
	for _, r := range gradcheck.Run(rowMajor{}, gradcheck.Config{Short: true}) {
		fmt.Println(r.Check, "ok")
	}
	// Output:
	// oracle ok
	// exact ok
	// nonfinite ok
	// scratch ok
	// repeat ok
	// concurrent ok
}
