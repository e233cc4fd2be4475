package fs

import (
	"encoding/hex"
	"strconv"
	"strings"
)

// packedETag is an ETag in 18 bytes with no string of its own: the MD5 in
// hex that S3, MinIO and Ceph RGW give (32 lowercase hex digits, followed
// by "-N" for a multipart upload's) as its 16 bytes and N. A string of 32
// hex digits took 48 bytes beside the node; every other ETag (a gateway's
// own form) is kept as a string in the node's rareInfo. The zero value is
// no ETag, so an MD5 of all zeros is not packed.
type packedETag struct {
	md5   [16]byte
	parts uint16 // N of "-N"; 0 for none
}

// maxPackedParts is the largest N packed: S3 allows 10,000 parts.
const maxPackedParts = 1<<16 - 1

// packETag packs etag, or reports that it has another form.
func packETag(etag string) (packedETag, bool) {
	digest, parts, multipart := strings.Cut(etag, "-")
	var p packedETag
	if len(digest) != 32 || !isLowerHex(digest) {
		return p, false
	}
	if multipart {
		n, err := strconv.ParseUint(parts, 10, 16)
		// Only the form N takes when formatted: "-01" or "-0" would not
		// come back the same.
		if err != nil || n == 0 || strconv.FormatUint(n, 10) != parts {
			return p, false
		}
		p.parts = uint16(n)
	}
	for i := range p.md5 {
		p.md5[i] = hexValue(digest[2*i])<<4 | hexValue(digest[2*i+1])
	}
	return p, p.md5 != [16]byte{}
}

// String is the ETag as it was packed.
func (p packedETag) String() string {
	if p == (packedETag{}) {
		return ""
	}
	b := make([]byte, 32, 38)
	hex.Encode(b, p.md5[:])
	if p.parts > 0 {
		b = append(b, '-')
		b = strconv.AppendUint(b, uint64(p.parts), 10)
	}
	return string(b)
}

// hexValue is the value of a lowercase hex digit.
func hexValue(c byte) byte {
	if c >= 'a' {
		return c - 'a' + 10
	}
	return c - '0'
}

func isLowerHex(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}
