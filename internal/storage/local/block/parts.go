package block

// A column section is a sequence of independently compressed parts:
//
//	section = uvarint(n) n*(codec:u8 uvarint(stored) uvarint(raw)) part-bytes...
//
// Most columns have one part. Attribute-bearing columns (attrs, events,
// links) have their main payload in part 0 and one part per attribute key
// (attrs.go), so that a search decompresses only the keys it tests. The
// section's CRC-32C (in the index) covers all of it.

// storedPart is one part of a section as read from disk.
type storedPart struct {
	codec byte
	data  []byte
	raw   uint32
}

// parseParts splits a verified section into its parts.
func parseParts(sec []byte) ([]storedPart, error) {
	r := newReader(sec)
	n := r.count(3)
	if n == 0 {
		return nil, errMalformed
	}
	parts := make([]storedPart, n)
	var total uint64
	for i := range parts {
		p := &parts[i]
		p.codec = r.byte()
		size, raw := r.uvarint(), r.uvarint()
		if r.err != nil || p.codec > codecZstd || raw > maxSectionRaw || (p.codec == codecRaw && size != raw) {
			return nil, errMalformed
		}
		p.raw = uint32(raw)
		total += size
		if total > uint64(len(sec)) {
			return nil, errMalformed
		}
		p.data = sec[:size] // placeholder length; sliced below
	}
	if total != uint64(r.remaining()) {
		return nil, errMalformed
	}
	off := r.i
	for i := range parts {
		size := len(parts[i].data)
		parts[i].data = sec[off : off+size : off+size]
		off += size
	}
	return parts, nil
}
