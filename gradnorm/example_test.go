package gradnorm_test

import (
	"fmt"

	"github.com/embgrad/embgrad/gradnorm"
)

func ExampleClipGradNorm() {
	table := []float32{3, 4, 0, 0} // a 2×2 table's gradient, norm 5
	pos := []float32{0, 0}         // a 1×2 positional table's, norm 0
	grads := []gradnorm.Grad{gradnorm.Dense(table, 2, 2), gradnorm.Dense(pos, 1, 2)}
	total, err := gradnorm.ClipGradNorm(grads, 1, 2, true)
	fmt.Println(total, err)
	fmt.Printf("%.6f\n", table)
	// Output:
	// 5 <nil>
	// [0.600000 0.800000 0.000000 0.000000]
}
