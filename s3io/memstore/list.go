package memstore

import (
	"context"
	"encoding/base64"
	"sort"
	"strings"

	"github.com/s3mount/s3mount/s3io"
)

// maxKeys is S3's default and largest page.
const maxKeys = 1000

// List returns one page of a ListObjectsV2 listing. Like S3, each common
// prefix counts against MaxKeys, StartAfter is ignored once a continuation
// token is given, and the token is opaque.
func (s *Store) List(ctx context.Context, req s3io.ListRequest) (s3io.ListPage, error) {
	const op = "ListObjectsV2"
	limit := int(req.MaxKeys)
	switch {
	case limit < 0:
		return s3io.ListPage{}, opErr(op, req.Bucket, req.Prefix, "InvalidArgument", s3io.ErrInvalidArgument)
	case limit == 0 || limit > maxKeys:
		limit = maxKeys
	}
	after, skipPrefix := req.StartAfter, ""
	if req.ContinuationToken != "" {
		last, isPrefix, ok := decodeToken(req.ContinuationToken)
		if !ok {
			return s3io.ListPage{}, &s3io.OpError{Op: op, Bucket: req.Bucket, Key: req.Prefix, Code: "InvalidArgument",
				Message: "the continuation token provided is incorrect", Err: s3io.ErrInvalidArgument}
		}
		after = last
		if isPrefix {
			skipPrefix = last
		}
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	b, err := s.bucketLocked(ctx, op, req.Bucket, req.Prefix)
	if err != nil {
		return s3io.ListPage{}, err
	}
	keys := b.sortedKeys()
	// Keys sharing a prefix are contiguous in sorted order: start at the
	// first one after both the prefix and the marker, stop at the first
	// key outside the prefix.
	i := sort.SearchStrings(keys, req.Prefix)
	if after >= req.Prefix {
		i = sort.Search(len(keys), func(j int) bool { return keys[j] > after })
	}
	var page s3io.ListPage
	var last string
	lastIsPrefix := false
	count := 0
	for ; i < len(keys) && strings.HasPrefix(keys[i], req.Prefix); i++ {
		k := keys[i]
		if skipPrefix != "" && strings.HasPrefix(k, skipPrefix) {
			continue // rolled up into a common prefix already returned
		}
		cp := commonPrefix(k, req.Prefix, req.Delimiter)
		if count == limit {
			page.IsTruncated = true
			break
		}
		count++
		if cp != "" {
			page.CommonPrefixes = append(page.CommonPrefixes, cp)
			last, lastIsPrefix, skipPrefix = cp, true, cp
			continue
		}
		page.Objects = append(page.Objects, b.objects[k].info(k, false))
		last, lastIsPrefix = k, false
	}
	if page.IsTruncated {
		page.NextContinuationToken = encodeToken(last, lastIsPrefix)
	}
	return page, nil
}

// commonPrefix returns the prefix key rolls up into under delimiter, or ""
// when it is listed as an object.
func commonPrefix(key, prefix, delimiter string) string {
	if delimiter == "" {
		return ""
	}
	rest := key[len(prefix):]
	i := strings.Index(rest, delimiter)
	if i < 0 {
		return ""
	}
	return prefix + rest[:i+len(delimiter)]
}

// A token is the last item returned, marked as key or prefix, so that a
// listing resumes after everything a returned common prefix stands for.
func encodeToken(last string, isPrefix bool) string {
	kind := "k"
	if isPrefix {
		kind = "p"
	}
	return base64.RawURLEncoding.EncodeToString([]byte(kind + last))
}

func decodeToken(tok string) (last string, isPrefix, ok bool) {
	b, err := base64.RawURLEncoding.DecodeString(tok)
	if err != nil || len(b) == 0 || (b[0] != 'k' && b[0] != 'p') {
		return "", false, false
	}
	return string(b[1:]), b[0] == 'p', true
}
