package block

// ColumnSize is the on-disk and decompressed size of one column summed
// over a block's row groups, or of one of its small files.
type ColumnSize struct {
	// Name is a column name (trace, spanID, ..., misc) or a file name
	// (index, dict, bloom).
	Name string
	// Stored is the number of bytes on disk; Raw the number after
	// decompression.
	Stored, Raw int64
}

// ColumnSizes reports where a block's bytes go, so that benchmarks and
// operators can see which columns dominate.
func (b *Block) ColumnSizes() []ColumnSize {
	out := make([]ColumnSize, numColumns, numColumns+3)
	for c := range out {
		out[c].Name = columnNames[c]
	}
	for i := range b.rgs {
		for c := range b.rgs[i].cols {
			s := &b.rgs[i].cols[c]
			out[c].Stored += int64(s.size)
			out[c].Raw += int64(s.raw)
		}
	}
	for _, name := range []string{IndexFile, DictFile, BloomFile} {
		if f, ok := b.meta.file(name); ok {
			out = append(out, ColumnSize{Name: name, Stored: f.Bytes, Raw: f.Bytes})
		}
	}
	return out
}
