package sharded

import (
	"unsafe"

	"github.com/embgrad/embgrad"
	"github.com/embgrad/embgrad/impl/internal/team"
	"github.com/embgrad/embgrad/impl/internal/vec"
)

// From scratch, the table is written once. A pass over the rows of dst,
// cut into fixed chunks of scratchChunk floats that the team claims one at a
// time, clears each run of untouched rows with non-temporal stores (which
// write around the caches: a plain store first reads the line it writes)
// and sets each touched row, in cache, from +0 plus its gradient rows in
// position order — the very operations Backward performs on a cleared dst,
// so the bits are Backward's. A hot row (more than K occurrences) is the
// sum of its groups' partial rows, summed in parallel first, as in
// Backward. Compared with clearing the table and then accumulating, the
// touched rows are not read back from memory, and there is one parallel
// pass instead of two with the serial planning between them.
//
// The chunks do not depend on the worker count (nor do the bits on the
// chunks): a small fixed chunk is all a descheduled helper can hold up.
const scratchChunk = 1 << 17 // floats: 512 KiB of the table

// scratch is BackwardScratch on validated input with D > 0, run on t.
func (k Kernel) scratch(t *team.Team, dst []float32, V, D int, ids []int32, gradOut []float32, opt embgrad.Options) {
	pl := plans.Get().(*plan)
	defer plans.Put(pl)
	K := max(minGroup, (len(ids)+maxGroups-1)/maxGroups)
	pl.build(V, ids, opt, K)
	defer pl.reset()
	pl.positions(ids, K)

	// The hot rows' groups, into partial rows from −0, in parallel.
	slots := 0
	for _, h := range pl.hot {
		slots += int(h.n)
	}
	if cap(pl.partial) < slots*D {
		pl.partial = make([]float32, slots*D)
	}
	partial := pl.partial[:slots*D]
	for i := range partial {
		partial[i] = negZero
	}
	if len(pl.hot) > 0 {
		first := pl.hot[0].first // a hot row's units are consecutive, rows in order
		hotUnits := int(pl.hot[len(pl.hot)-1].first+pl.hot[len(pl.hot)-1].n) - int(first)
		t.Run(hotUnits, func(p int) {
			f := int(first) + p
			u := pl.units[f]
			if u.hot < 0 {
				return // a cool row between two hot ones
			}
			pl.addPositions(partial[int(u.slot)*D:int(u.slot)*D+D], f, D, gradOut)
		})
	}

	rowsPer := max(1, scratchChunk/D)
	chunks := (V + rowsPer - 1) / rowsPer
	table := len(pl.unit) // rows past it are never named
	t.Run(chunks, func(p int) {
		v0, v1 := p*rowsPer, min((p+1)*rowsPer, V)
		run := v0 // first row of the current run of untouched rows
		for v := v0; v < v1; v++ {
			if v >= table || pl.unit[v] == 0 {
				continue
			}
			clearStream(dst[run*D : v*D])
			run = v + 1
			row := dst[v*D : v*D+D]
			clear(row)
			f := int(pl.unit[v]) - 1
			if h := pl.units[f].hot; h >= 0 {
				hr := pl.hot[h]
				for _, u := range pl.units[hr.first : hr.first+hr.n] {
					vec.Add(row, partial[int(u.slot)*D:int(u.slot)*D+D])
				}
				continue
			}
			pl.addPositions(row, f, D, gradOut)
		}
		clearStream(dst[run*D : v1*D])
		sfence()
	})
}

// addPositions adds unit f's gradient rows into row, in position order,
// as Backward's parts do.
func (pl *plan) addPositions(row []float32, f, D int, gradOut []float32) {
	u := pl.units[f]
	ps := pl.pos[pl.start[f] : pl.start[f]+u.count]
	for k, i := range ps {
		if prefetchAhead > 0 && k+prefetchAhead < len(ps) {
			j := int(ps[k+prefetchAhead])
			vec.Prefetch(gradOut[j*D : j*D+D])
		}
		g := gradOut[int(i)*D : int(i)*D+D]
		if u.s == 1 {
			vec.Add(row, g)
		} else {
			vec.AddScaled(row, g, u.s)
		}
	}
}

// positions lists each unit's positions, in order, in pl.pos from
// pl.start[unit]: a counting sort of the batch by unit, the k-th occurrence
// of a hot row going to the unit of group k/K.
func (pl *plan) positions(ids []int32, K int) {
	pl.start = grow(pl.start, len(pl.units)+1)
	off := int32(0)
	for f, u := range pl.units {
		pl.start[f] = off
		off += u.count
	}
	pl.start[len(pl.units)] = off
	pl.pos = grow(pl.pos, int(off))
	fill := grow(pl.fill, len(pl.units))
	clear(fill)
	seen := grow(pl.seen, len(pl.hot))
	clear(seen)
	for i, id := range ids {
		f := int(pl.unit[id]) - 1 // −1 for padding
		if f < 0 {
			continue
		}
		if h := pl.units[f].hot; h >= 0 {
			f += int(seen[h]) / K
			seen[h]++
		}
		pl.pos[pl.start[f]+fill[f]] = int32(i)
		fill[f]++
	}
	pl.fill, pl.seen = fill, seen
}

// clearStream sets s to +0, the 32-byte aligned middle with non-temporal
// stores where the CPU has them.
func clearStream(s []float32) {
	if !haveNT || len(s) < 64 {
		clear(s)
		return
	}
	head := int((32-uintptr(unsafe.Pointer(&s[0]))&31)&31) / 4
	body := (len(s) - head) &^ 7
	clear(s[:head])
	clearNTAVX2(s[head : head+body])
	clear(s[head+body:])
}
