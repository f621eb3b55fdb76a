package extkernel_test

import (
	"testing"

	"github.com/embgrad/embgrad"
	"github.com/embgrad/embgrad/extkernel"
	"github.com/embgrad/embgrad/impl/registry"
	"github.com/embgrad/embgrad/internal/suite"
	"github.com/embgrad/embgrad/property"
)

// BenchmarkPropertySuite is the whole property suite (-short sizes, one
// seed) on a kernel in process and over the protocol with the Go kernel
// process, for the overhead figure of results/EXTERNAL.md. calls/op and
// B/op-sent say where the protocol's time goes.
func BenchmarkPropertySuite(b *testing.B) {
	for _, name := range []string{"loop", "sorted"} {
		k, ok := registry.Lookup(name)
		if !ok {
			b.Fatal(name)
		}
		run := func(b *testing.B, k embgrad.Kernel) {
			for b.Loop() {
				if err := suite.Join(property.Run(k, suite.Config{Short: true, Seed: 1})); err != nil {
					b.Fatal(err)
				}
			}
		}
		b.Run("impl="+name+"/where=process", func(b *testing.B) { run(b, k) })
		b.Run("impl="+name+"/where=protocol", func(b *testing.B) {
			p := serve(b, "-kernel "+name, extkernel.Config{})
			before := p.Stats()
			run(b, p.Kernel())
			s := p.Stats()
			b.ReportMetric(float64(s.Calls-before.Calls)/float64(b.N), "calls/op")
			b.ReportMetric(float64(s.Sent+s.Received-before.Sent-before.Received)/float64(b.N), "wire-B/op")
		})
	}
}

// BenchmarkCall is one small dense call (V=64, D=16, N=32), in process and
// over the protocol: the fixed cost of a round trip.
func BenchmarkCall(b *testing.B) {
	k, _ := registry.Lookup("loop")
	V, D, N := 64, 16, 32
	dst, g, ids := make([]float32, V*D), make([]float32, N*D), make([]int32, N)
	for i := range ids {
		ids[i] = int32(i * 7 % V)
	}
	run := func(b *testing.B, k embgrad.Kernel) {
		for b.Loop() {
			if err := k.Backward(dst, V, D, ids, g, embgrad.Options{}); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.Run("where=process", func(b *testing.B) { run(b, k) })
	b.Run("where=protocol", func(b *testing.B) { run(b, serve(b, "-kernel loop", extkernel.Config{}).Kernel()) })
}
