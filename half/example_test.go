package half_test

import (
	"fmt"

	"github.com/embgrad/embgrad/half"
)

func Example() {
	b := half.BFloat16FromFloat32(1.00390625) // 1 + 2⁻⁸: a tie between 1 and 1 + 2⁻⁷, to even
	h := half.Float16FromFloat32(65520)       // half an ulp past the largest float16: overflows
	fmt.Println(b.Float32(), h.Float32())
	// Output: 1 +Inf
}

// A kernel that rounds a row-major V×D result stochastically numbers element (row, col) as
// row·D + col, so any split of the rows among workers gives the same bits.
func ExampleNarrowBFloat16Stochastic() {
	const D = 4
	acc := []float32{1.001, 1.002, 1.003, 1.004, 2.001, 2.002, 2.003, 2.004} // two rows
	whole := make([]uint16, len(acc))
	half.NarrowBFloat16Stochastic(whole, acc, 42, 0)
	split := make([]uint16, len(acc))
	for row := 1; row >= 0; row-- { // rows in another order, as another worker count might
		half.NarrowBFloat16Stochastic(split[row*D:(row+1)*D], acc[row*D:(row+1)*D], 42, uint64(row*D))
	}
	fmt.Println(fmt.Sprint(whole) == fmt.Sprint(split))
	// Output: true
}
