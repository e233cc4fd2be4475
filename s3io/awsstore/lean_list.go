package awsstore

import (
	"context"
	"encoding/xml"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"time"

	smithytime "github.com/aws/smithy-go/time"

	"github.com/s3mount/s3mount/s3io"
)

// Through the SDK a one-key listing cost about 840 allocations and 61 KB
// (BenchmarkRequestCost, the test server's share included): its XML
// decoder, then, for MinIO's metadata, a second parse of the same body. A
// lean listing parses the body once.

// maxListBody bounds a listing's answer: a page of 1,000 keys with their
// metadata is well under a MiB.
const maxListBody = 16 << 20

// listAnswer is one ListObjectsV2 page as either path read it, before the
// keys are decoded.
type listAnswer struct {
	encoding  string
	truncated bool
	token     string
	objects   []listedObject
	prefixes  []string
	md        listMetadata
}

// listedObject is one <Contents>, with its key as sent.
type listedObject struct {
	key, etag, storageClass string
	size                    int64
	modTime                 time.Time
}

// listXML is a ListObjectsV2 answer, as far as List reads it.
type listXML struct {
	IsTruncated           *string `xml:"IsTruncated"`
	NextContinuationToken string  `xml:"NextContinuationToken"`
	EncodingType          string  `xml:"EncodingType"`
	Contents              []struct {
		Key          string           `xml:"Key"`
		LastModified *string          `xml:"LastModified"`
		ETag         string           `xml:"ETag"`
		Size         *string          `xml:"Size"`
		StorageClass string           `xml:"StorageClass"`
		UserMetadata *userMetadataXML `xml:"UserMetadata"`
	} `xml:"Contents"`
	CommonPrefixes []struct {
		Prefix string `xml:"Prefix"`
	} `xml:"CommonPrefixes"`
}

// list sends one ListObjectsV2, with the query the SDK sends (and
// metadata=true when withMetadata). It answers only a 200 whose body it
// reads as the SDK would; anything else goes to the SDK.
func (l *leanHTTP) list(ctx context.Context, req s3io.ListRequest, withMetadata bool) (listAnswer, leanResult) {
	q := url.Values{"list-type": {"2"}, "encoding-type": {"url"}}
	for name, v := range map[string]string{"prefix": req.Prefix, "delimiter": req.Delimiter,
		"start-after": req.StartAfter, "continuation-token": req.ContinuationToken} {
		if v != "" {
			q.Set(name, v)
		}
	}
	if req.MaxKeys > 0 {
		q.Set("max-keys", strconv.Itoa(int(req.MaxKeys)))
	}
	if withMetadata {
		q.Set("metadata", "true")
	}
	hr, err := http.NewRequestWithContext(ctx, http.MethodGet, "", nil)
	if err != nil {
		return listAnswer{}, leanNotSent
	}
	hr.URL = l.bucketURL(req.Bucket)
	hr.URL.RawQuery = q.Encode()
	hr.Host = hr.URL.Host
	// Else Go's transport asks for gzip: MinIO then compresses every page
	// (its CPU per listed entry tripled in make bench-scale's find) and the
	// daemon inflates it. The SDK asks for the bytes as they are too.
	hr.Header.Set("Accept-Encoding", "identity")
	resp, d, err := l.send(ctx, hr, emptySHA256)
	if errors.Is(err, errNotSent) {
		return listAnswer{}, leanNotSent
	}
	if err != nil {
		l.log.DebugContext(ctx, "lean listing failed; sending it through the SDK", "bucket", req.Bucket,
			"prefix", req.Prefix, "err", transportMessage(err))
		l.failedOp("ListObjectsV2", 0, 0, d)
		return listAnswer{}, leanFailed
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		l.answered(ctx, "ListObjectsV2", req.Bucket, req.Prefix, "", resp, 0, d, true)
		return listAnswer{}, leanFailed
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxListBody))
	var a listAnswer
	ok := err == nil
	if ok {
		a, ok = parseListAnswer(body, withMetadata)
	}
	if !ok {
		l.log.DebugContext(ctx, "lean listing's answer not read; sending it through the SDK", "bucket", req.Bucket,
			"prefix", req.Prefix)
		l.answered(ctx, "ListObjectsV2", req.Bucket, req.Prefix, "", resp, 0, d, true)
		return listAnswer{}, leanFailed
	}
	l.served(ctx, "ListObjectsV2", req.Bucket, req.Prefix, "", resp, 0, d)
	return a, leanServed
}

// parseListAnswer reads a ListObjectsV2 answer as the SDK's deserializer
// does (and, withMetadata, MinIO's <UserMetadata> as the SDK path's
// middleware does); false when the SDK would fail: a number, flag or date
// it cannot parse (an element present but empty among them), or no XML.
func parseListAnswer(body []byte, withMetadata bool) (listAnswer, bool) {
	var doc listXML
	if err := xml.Unmarshal(body, &doc); err != nil {
		return listAnswer{}, false
	}
	a := listAnswer{encoding: doc.EncodingType, token: doc.NextContinuationToken,
		objects: make([]listedObject, 0, len(doc.Contents)), prefixes: make([]string, 0, len(doc.CommonPrefixes))}
	if doc.IsTruncated != nil {
		t, err := strconv.ParseBool(*doc.IsTruncated)
		if err != nil {
			return listAnswer{}, false
		}
		a.truncated = t
	}
	for _, c := range doc.Contents {
		o := listedObject{key: c.Key, etag: c.ETag, storageClass: c.StorageClass}
		if c.Size != nil {
			n, err := strconv.ParseInt(*c.Size, 10, 64)
			if err != nil {
				return listAnswer{}, false
			}
			o.size = n
		}
		if c.LastModified != nil {
			t, err := smithytime.ParseDateTime(*c.LastModified)
			if err != nil {
				return listAnswer{}, false
			}
			o.modTime = t
		}
		if c.UserMetadata != nil && withMetadata {
			if a.md == nil {
				a.md = listMetadata{}
			}
			a.md[c.Key] = c.UserMetadata.metadata()
		}
		a.objects = append(a.objects, o)
	}
	for _, p := range doc.CommonPrefixes {
		a.prefixes = append(a.prefixes, p.Prefix)
	}
	return a, true
}
