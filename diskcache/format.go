package diskcache

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"unsafe"
)

// A block file is a header, zero padding to dataAlign, then the block's
// bytes. All integers are little-endian.
//
//	0   magic "s3mc"
//	4   format version (1)
//	8   header length in bytes, its own CRC included
//	12  chunk size
//	16  offset of the block in its object
//	24  length of the block
//	32  length of the name, then the name (namespace, object ID)
//	..  CRC-32C (Castagnoli) of each chunk of the data
//	..  CRC-32C of the header before it
const (
	magic         = "s3mc"
	formatVersion = 1
	chunkSize     = 64 << 10
	dataAlign     = 4096
	fixedHeader   = 36
	maxNameLen    = 64 << 10
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// errCorrupt marks a block file that does not hold what its name says.
var errCorrupt = errors.New("corrupted block file")

// header is what a block file says it holds.
type header struct {
	name   string // namespace and object ID
	offset int64  // of the block in the object
	length int64
	crcs   []uint32 // one per chunk of the data
}

func chunks(length int64) int { return int((length + chunkSize - 1) / chunkSize) }

// headerLen is the encoded size of a header for name and length.
func headerLen(name string, length int64) int {
	return fixedHeader + len(name) + 4*chunks(length) + 4
}

// dataOffset is where the data starts in a file whose header is n bytes.
func dataOffset(n int) int64 { return int64((n + dataAlign - 1) / dataAlign * dataAlign) }

// fileSize is the size of the file of a block of length bytes.
func fileSize(name string, length int64) int64 {
	return dataOffset(headerLen(name, length)) + length
}

// encodeHeader returns the header of data, whose chunks' checksums are
// crcs, padded to where data starts.
func encodeHeader(name string, offset int64, data []byte, crcs []uint32) []byte {
	n := headerLen(name, int64(len(data)))
	b := alignedBytes(int(dataOffset(n)))
	copy(b, magic)
	binary.LittleEndian.PutUint32(b[4:], formatVersion)
	binary.LittleEndian.PutUint32(b[8:], uint32(n))
	binary.LittleEndian.PutUint32(b[12:], chunkSize)
	binary.LittleEndian.PutUint64(b[16:], uint64(offset))
	binary.LittleEndian.PutUint64(b[24:], uint64(len(data)))
	binary.LittleEndian.PutUint32(b[32:], uint32(len(name)))
	p := fixedHeader + copy(b[fixedHeader:], name)
	for _, crc := range crcs {
		binary.LittleEndian.PutUint32(b[p:], crc)
		p += 4
	}
	binary.LittleEndian.PutUint32(b[p:], crc32.Checksum(b[:p], castagnoli))
	return b
}

// alignedBytes returns n zero bytes at an address that is a multiple of
// dataAlign, so that a header may be written with O_DIRECT.
func alignedBytes(n int) []byte {
	b := make([]byte, n+dataAlign)
	skip := (dataAlign - int(uintptr(unsafe.Pointer(unsafe.SliceData(b)))%dataAlign)) % dataAlign
	return b[skip : skip+n : skip+n]
}

// headerSize reads the header length from the first fixedHeader bytes,
// so that a reader knows how much more to read.
func headerSize(b []byte) (int, error) {
	if len(b) < fixedHeader || string(b[:4]) != magic {
		return 0, fmt.Errorf("%w: no header", errCorrupt)
	}
	if v := binary.LittleEndian.Uint32(b[4:]); v != formatVersion {
		return 0, fmt.Errorf("%w: format version %d", errCorrupt, v)
	}
	n := int(binary.LittleEndian.Uint32(b[8:]))
	if n < fixedHeader+4 || n > fixedHeader+maxNameLen+4*chunks(1<<30)+4 {
		return 0, fmt.Errorf("%w: header length %d", errCorrupt, n)
	}
	return n, nil
}

// decodeHeader parses and checks a whole header.
func decodeHeader(b []byte) (header, error) {
	n, err := headerSize(b)
	if err != nil {
		return header{}, err
	}
	if len(b) < n {
		return header{}, fmt.Errorf("%w: header cut at %d of %d bytes", errCorrupt, len(b), n)
	}
	b = b[:n]
	if want := binary.LittleEndian.Uint32(b[n-4:]); crc32.Checksum(b[:n-4], castagnoli) != want {
		return header{}, fmt.Errorf("%w: header checksum", errCorrupt)
	}
	if cs := binary.LittleEndian.Uint32(b[12:]); cs != chunkSize {
		return header{}, fmt.Errorf("%w: chunk size %d", errCorrupt, cs)
	}
	h := header{
		offset: int64(binary.LittleEndian.Uint64(b[16:])),
		length: int64(binary.LittleEndian.Uint64(b[24:])),
	}
	nameLen := int(binary.LittleEndian.Uint32(b[32:]))
	if h.offset < 0 || h.length < 0 || h.length > 1<<30 || nameLen > maxNameLen ||
		fixedHeader+nameLen+4*chunks(h.length)+4 != n {
		return header{}, fmt.Errorf("%w: inconsistent header", errCorrupt)
	}
	h.name = string(b[fixedHeader : fixedHeader+nameLen])
	p := fixedHeader + nameLen
	h.crcs = make([]uint32, chunks(h.length))
	for i := range h.crcs {
		h.crcs[i] = binary.LittleEndian.Uint32(b[p:])
		p += 4
	}
	return h, nil
}

// checkChunks verifies data, which starts at chunk first of the block.
func (h *header) checkChunks(first int, data []byte) error {
	for i, off := first, 0; off < len(data); i, off = i+1, off+chunkSize {
		if i >= len(h.crcs) {
			return fmt.Errorf("%w: more data than chunks", errCorrupt)
		}
		if crc32.Checksum(data[off:min(off+chunkSize, len(data))], castagnoli) != h.crcs[i] {
			return fmt.Errorf("%w: checksum of chunk %d", errCorrupt, i)
		}
	}
	return nil
}
