package awsstore

import (
	"bytes"
	"context"
	"encoding/xml"
	"io"
	"strings"
	"sync/atomic"

	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/s3mount/s3mount/s3io"
)

// MinIO answers ListObjectsV2 with metadata=true with each object's user
// metadata and content type (<UserMetadata>), which S3's listings never
// carry: a listing then tells a file's type, mode, owner and mtime (s3fs's
// x-amz-meta-*) without a HEAD per object. Other servers ignore the
// parameter and answer without the element; after such an answer the
// store stops asking.

// listMetadata is what a listing page said of its objects' metadata, by
// raw (possibly URL-encoded) key.
type listMetadata map[string]objectMetadata

type objectMetadata struct {
	userMetadata     map[string]string // names lower-cased, without x-amz-meta-
	contentType      string
	sse, sseKMSKeyID string
}

// metadataListing is the middleware pair of a ListObjectsV2 call that asks
// for metadata: it adds the parameter and keeps a copy of the answer's
// <UserMetadata> elements in the holder the call's context carries.
type metadataListing struct{ holder *listMetadata }

func (metadataListing) ID() string { return "s3mount-list-metadata" }

func (m metadataListing) HandleBuild(ctx context.Context, in middleware.BuildInput, next middleware.BuildHandler) (middleware.BuildOutput, middleware.Metadata, error) {
	if req, ok := in.Request.(*smithyhttp.Request); ok {
		q := req.URL.Query()
		q.Set("metadata", "true")
		req.URL.RawQuery = q.Encode()
	}
	return next.HandleBuild(ctx, in)
}

func (m metadataListing) HandleDeserialize(ctx context.Context, in middleware.DeserializeInput, next middleware.DeserializeHandler) (middleware.DeserializeOutput, middleware.Metadata, error) {
	out, md, err := next.HandleDeserialize(ctx, in)
	resp, ok := out.RawResponse.(*smithyhttp.Response)
	if err != nil || !ok || resp.StatusCode != 200 {
		return out, md, err
	}
	body, rerr := io.ReadAll(resp.Body)
	resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(body))
	if rerr == nil {
		*m.holder = parseListMetadata(body)
	}
	return out, md, err
}

// withListMetadata returns the per-call options that ask for metadata and
// capture it into holder.
func withListMetadata(holder *listMetadata) func(*middleware.Stack) error {
	return func(stack *middleware.Stack) error {
		m := metadataListing{holder: holder}
		if err := stack.Build.Add(middleware.BuildMiddlewareFunc(m.ID(), m.HandleBuild), middleware.After); err != nil {
			return err
		}
		// After the operation's deserializer, so closer to the wire: it sees
		// the raw body first and leaves a copy for the deserializer.
		return stack.Deserialize.Add(middleware.DeserializeMiddlewareFunc(m.ID(), m.HandleDeserialize), middleware.After)
	}
}

// userMetadataXML is a listed object's <UserMetadata>.
type userMetadataXML struct {
	Items []struct {
		XMLName xml.Name
		Value   string `xml:",chardata"`
	} `xml:",any"`
}

// parseListMetadata reads the <UserMetadata> of each <Contents>.
func parseListMetadata(body []byte) listMetadata {
	var doc struct {
		Contents []struct {
			Key          string           `xml:"Key"`
			UserMetadata *userMetadataXML `xml:"UserMetadata"`
		} `xml:"Contents"`
	}
	if xml.Unmarshal(body, &doc) != nil {
		return nil
	}
	out := listMetadata{}
	for _, c := range doc.Contents {
		if c.UserMetadata != nil {
			out[c.Key] = c.UserMetadata.metadata()
		}
	}
	return out
}

// metadata is what the element says: user metadata, content type and
// encryption.
func (u *userMetadataXML) metadata() objectMetadata {
	om := objectMetadata{userMetadata: map[string]string{}}
	for _, it := range u.Items {
		name := strings.ToLower(it.XMLName.Local)
		switch {
		case strings.HasPrefix(name, "x-amz-meta-"):
			om.userMetadata[strings.TrimPrefix(name, "x-amz-meta-")] = it.Value
		case name == "content-type":
			om.contentType = it.Value
		case name == "x-amz-server-side-encryption":
			om.sse = it.Value
		case name == "x-amz-server-side-encryption-aws-kms-key-id":
			om.sseKMSKeyID = it.Value
		}
	}
	return om
}

// listMetadataState remembers whether the server answers metadata=true.
type listMetadataState struct {
	off atomic.Bool // an answer came without <UserMetadata>: stop asking
}

// apply gives the listed object the metadata its page carried, if any.
func (md listMetadata) apply(rawKey string, o *s3io.ObjectInfo) {
	m, ok := md[rawKey]
	if !ok {
		return
	}
	o.Metadata, o.ContentType, o.HasMetadata = m.userMetadata, m.contentType, true
	o.SSE, o.SSEKMSKeyID = m.sse, m.sseKMSKeyID
}
