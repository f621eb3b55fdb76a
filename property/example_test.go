package property_test

import (
	"errors"
	"fmt"

	"github.com/embgrad/embgrad"
	"github.com/embgrad/embgrad/property"
)

// columnMajor is a kernel written outside embgrad: column by column, each
// over the positions in order.
type columnMajor struct{}

func (columnMajor) Name() string { return "column-major" }

func (columnMajor) Backward(dst []float32, V, D int, ids []int32, gradOut []float32, opt embgrad.Options) error {
	if err := embgrad.Validate(dst, V, D, ids, gradOut, opt); err != nil {
		return err
	}
	count := map[int32]float32{}
	for _, id := range ids {
		if !opt.Skips(id) {
			count[id]++
		}
	}
	for j := 0; j < D; j++ {
		for i, id := range ids {
			if opt.Skips(id) {
				continue
			}
			s := float32(1)
			if opt.ScaleGradByFreq {
				s = 1 / count[id]
			}
			dst[int(id)*D+j] += s * gradOut[i*D+j]
		}
	}
	return nil
}

// An outside kernel verified by every property; in its tests this is
// property.Test(t, columnMajor{}).
func Example() {
	if err := property.Check(columnMajor{}, property.Config{Short: true}); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("every property holds")
	// Output: every property holds
}

// lastWins forgets that ids repeat: each position sets its row to what dst
// held before the call plus its gradient, so only the last occurrence
// counts.
type lastWins struct{}

func (lastWins) Name() string { return "last-wins" }

func (lastWins) Backward(dst []float32, V, D int, ids []int32, gradOut []float32, opt embgrad.Options) error {
	if err := embgrad.Validate(dst, V, D, ids, gradOut, opt); err != nil {
		return err
	}
	base := append([]float32(nil), dst...)
	for i, id := range ids {
		if opt.Skips(id) {
			continue
		}
		for j := 0; j < D; j++ {
			dst[int(id)*D+j] = base[int(id)*D+j] + gradOut[i*D+j]
		}
	}
	return nil
}

// A failure comes with its counterexample, shrunk to a few ids.
func Example_failure() {
	for _, r := range property.Run(lastWins{}, property.Config{Seed: 1, Short: true}) {
		var f *property.Failure
		if errors.As(r.Err, &f) {
			fmt.Printf("%s: %v\n", r.Check, f.Case)
			return
		}
	}
	// Output: oracle: V=1 D=1 ids=[0 0] g=[1 1] pad=- scale=off dst=[0]
}
