package vec

func add(dst, src []float32)                  { addGeneric(dst, src) }
func addScaled(dst, src []float32, s float32) { addScaledGeneric(dst, src, s) }

const path = "generic"
