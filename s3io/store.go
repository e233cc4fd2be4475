package s3io

import (
	"context"
	"io"
	"time"
)

// Store is everything the filesystem asks of an object store: the
// objects' data and the administration beside it. Implementations must be
// safe for concurrent use. Keys are full object keys; prefixes end with
// the delimiter when they name a directory.
//
// A package that only reads and writes files takes an ObjectStore, so that
// its fakes implement 12 methods, not all of them.
type Store interface {
	ObjectStore
	AdminStore
}

// ObjectStore is the data path: what reading, writing, listing, renaming
// and deleting files needs.
type ObjectStore interface {
	// HeadObject returns the object's attributes and user metadata.
	HeadObject(ctx context.Context, bucket, key string, opts ReadOptions) (ObjectInfo, error)
	// List returns one page of a ListObjectsV2 listing.
	List(ctx context.Context, req ListRequest) (ListPage, error)
	// ReadRange fills p with the object's bytes starting at off. It returns
	// n < len(p) only when the object ends first (io.EOF is not returned for
	// that). A body broken in the middle is resumed where it stopped.
	ReadRange(ctx context.Context, bucket, key string, off int64, p []byte, opts ReadOptions) (int, error)

	// PutObject uploads a whole object in one request.
	PutObject(ctx context.Context, bucket, key string, body io.ReadSeeker, size int64, opts WriteOptions) (ObjectInfo, error)
	// CreateMultipartUpload starts a multipart upload and returns its id.
	CreateMultipartUpload(ctx context.Context, bucket, key string, opts WriteOptions) (string, error)
	// UploadPart uploads one part (numbered from 1).
	UploadPart(ctx context.Context, up Upload, part int32, body io.ReadSeeker, size int64) (Part, error)
	// UploadPartCopy makes one part from a byte range of an existing object.
	UploadPartCopy(ctx context.Context, up Upload, part int32, src CopySource, r Range) (Part, error)
	// CompleteMultipartUpload assembles the parts. The returned ETag is the
	// object's, read back with HeadObject when the server sent none.
	CompleteMultipartUpload(ctx context.Context, up Upload, parts []Part) (ObjectInfo, error)
	// AbortMultipartUpload discards an upload and its parts.
	AbortMultipartUpload(ctx context.Context, up Upload) error
	// ListMultipartUploads lists incomplete uploads under prefix.
	ListMultipartUploads(ctx context.Context, bucket, prefix string) ([]Upload, error)
	// CopyObject copies src to bucket/key server-side (up to 5 GiB). With
	// opts.ReplaceMetadata the destination gets opts.Metadata, otherwise the
	// source's.
	CopyObject(ctx context.Context, src CopySource, bucket, key string, opts CopyOptions) (ObjectInfo, error)
	// DeleteObject removes a key. Deleting a missing key is not an error.
	DeleteObject(ctx context.Context, bucket, key string) error
}

// AdminStore is what only the extended attributes, the bucket directories
// and the mount's checks need: buckets themselves, an object's tags, ACL,
// restore and presigned URL, and a bucket's configuration.
type AdminStore interface {
	// ListBuckets returns the buckets the credentials can list.
	ListBuckets(ctx context.Context) ([]BucketInfo, error)
	// HeadBucket reports whether the bucket exists and is accessible.
	HeadBucket(ctx context.Context, bucket string) error

	// GetObjectTagging returns the object's tags sorted by key; an object
	// without tags gives an empty slice and no error.
	GetObjectTagging(ctx context.Context, bucket, key string) ([]Tag, error)
	// PutObjectTagging replaces the object's tags. CheckTags(tags,
	// MaxObjectTags) is applied before anything is sent.
	PutObjectTagging(ctx context.Context, bucket, key string, tags []Tag) error
	// DeleteObjectTagging removes all the object's tags.
	DeleteObjectTagging(ctx context.Context, bucket, key string) error
	// GetObjectACL returns the object's access control list.
	GetObjectACL(ctx context.Context, bucket, key string) (ACL, error)
	// PutObjectACL replaces the object's ACL with a canned ACL ("private",
	// "public-read", "bucket-owner-full-control", ...).
	PutObjectACL(ctx context.Context, bucket, key, canned string) error
	// RestoreObject asks for a temporary copy of an archived (GLACIER,
	// DEEP_ARCHIVE) object for days days. tier is "Standard", "Bulk",
	// "Expedited", or "" for the server's default. An object that is not
	// archived gives ErrInvalidObjectState; a restore already in progress
	// is no error.
	RestoreObject(ctx context.Context, bucket, key string, days int, tier string) error
	// PresignGetObject returns a URL that GETs the object without
	// credentials until expiry (1 s to 7 days) has passed. Headers that
	// opts implies (If-Match, the three SSE-C headers) are signed: whoever
	// uses the URL must send them with the same values. The URL is a
	// bearer credential: never log it.
	PresignGetObject(ctx context.Context, bucket, key string, expiry time.Duration, opts ReadOptions) (string, error)

	// GetBucketTagging returns the bucket's tags sorted by key; a bucket
	// without tags gives an empty slice and no error.
	GetBucketTagging(ctx context.Context, bucket string) ([]Tag, error)
	// PutBucketTagging replaces the bucket's tags, after CheckTags(tags,
	// MaxBucketTags).
	PutBucketTagging(ctx context.Context, bucket string, tags []Tag) error
	// DeleteBucketTagging removes all the bucket's tags.
	DeleteBucketTagging(ctx context.Context, bucket string) error
	// GetBucketACL returns the bucket's access control list.
	GetBucketACL(ctx context.Context, bucket string) (ACL, error)
	// PutBucketACL replaces the bucket's ACL with a canned ACL.
	PutBucketACL(ctx context.Context, bucket, canned string) error

	// Bucket configuration documents are exchanged as S3's own text: the
	// policy JSON, and the CORSConfiguration and LifecycleConfiguration
	// XML documents as the S3 API defines them (package s3io/s3xml reads
	// and writes them; input may omit the S3 namespace, output has it). A
	// document that is not well formed gives ErrInvalidArgument before
	// anything is sent. A bucket without the document gives
	// ErrNoConfiguration; deleting a missing document is no error.
	GetBucketPolicy(ctx context.Context, bucket string) (string, error)
	PutBucketPolicy(ctx context.Context, bucket, policy string) error
	DeleteBucketPolicy(ctx context.Context, bucket string) error
	GetBucketCORS(ctx context.Context, bucket string) (string, error)
	PutBucketCORS(ctx context.Context, bucket, xmlDoc string) error
	DeleteBucketCORS(ctx context.Context, bucket string) error
	GetBucketLifecycle(ctx context.Context, bucket string) (string, error)
	PutBucketLifecycle(ctx context.Context, bucket, xmlDoc string) error
	DeleteBucketLifecycle(ctx context.Context, bucket string) error
	// GetBucketVersioning returns "Enabled", "Suspended", or "" for a
	// bucket that never had versioning enabled.
	GetBucketVersioning(ctx context.Context, bucket string) (string, error)
	// PutBucketVersioning sets the status: "Enabled" or "Suspended".
	PutBucketVersioning(ctx context.Context, bucket, status string) error

	// CreateBucket creates a bucket in region; "" and "us-east-1" send no
	// LocationConstraint. An existing bucket gives ErrBucketExists, a name
	// S3 does not allow ErrInvalidArgument.
	CreateBucket(ctx context.Context, bucket, region string) error
	// DeleteBucket deletes an empty bucket; one with objects gives
	// ErrBucketNotEmpty.
	DeleteBucket(ctx context.Context, bucket string) error
}

// BucketInfo describes a bucket.
type BucketInfo struct {
	Name    string
	Created time.Time
}

// ObjectInfo describes an object. Listings fill Key, Size, ETag, ModTime and
// StorageClass; HeadObject fills the rest too. ETag is without quotes and
// may be empty (some gateways list none).
type ObjectInfo struct {
	Key          string
	Size         int64
	ETag         string
	ModTime      time.Time
	StorageClass string
	ContentType  string
	VersionID    string
	// Metadata is the user metadata (x-amz-meta-*), names lower-cased and
	// without the prefix. Nil for listing results.
	Metadata map[string]string
	// SSE is the server-side encryption algorithm ("AES256", "aws:kms") and
	// SSEKMSKeyID the KMS key, when any.
	SSE         string
	SSEKMSKeyID string
	// HasMetadata is true when the info came from HeadObject (or a write), so
	// Metadata is authoritative.
	HasMetadata bool
}

// ListRequest is one ListObjectsV2 call.
type ListRequest struct {
	Bucket            string
	Prefix            string
	Delimiter         string
	StartAfter        string
	ContinuationToken string
	MaxKeys           int32 // 0 means the server's default (1,000)
	// WithMetadata asks for each object's user metadata where the server
	// can list it (MinIO); objects that come with it have HasMetadata.
	// Listings that cannot carry it cost nothing more.
	WithMetadata bool
}

// ListPage is one page of a listing. Objects and CommonPrefixes are each
// sorted by key, as S3 returns them.
type ListPage struct {
	Objects               []ObjectInfo
	CommonPrefixes        []string
	NextContinuationToken string
	IsTruncated           bool
}

// Range is a byte range [Off, Off+Len).
type Range struct {
	Off, Len int64
}

// SSECustomerKey is an SSE-C key: 32 raw bytes. It is never logged.
type SSECustomerKey []byte

// String hides the key from fmt and slog.
func (SSECustomerKey) String() string { return "[redacted]" }

// MaxPresignExpiry is the longest validity of a presigned URL (SigV4's).
const MaxPresignExpiry = 7 * 24 * time.Hour

// ReadOptions qualify a read or head.
type ReadOptions struct {
	// IfMatch makes the request fail with ErrPreconditionFailed when the
	// object's ETag differs.
	IfMatch string
	SSEC    SSECustomerKey
	// Filled, when set, is told during a ReadRange how many bytes at the
	// start of p hold their final content, each time more have arrived,
	// so that the caller may work on them while they are in the CPU's
	// caches. The counts grow; a Store may report seldom or never.
	Filled func(n int)
}

// WriteOptions apply to a new object.
type WriteOptions struct {
	ContentType  string
	Metadata     map[string]string
	StorageClass string
	ACL          string // canned ACL name
	SSE          string // "AES256" or "aws:kms"
	SSEKMSKeyID  string
	SSEC         SSECustomerKey
	// ContentMD5 sends Content-MD5 so that the server verifies the body.
	ContentMD5 bool
	// IfNoneMatch "*" refuses to overwrite an existing object, where the
	// server supports conditional writes.
	IfNoneMatch string
}

// CopySource names the object a copy reads from.
type CopySource struct {
	Bucket, Key string
	IfMatch     string
	SSEC        SSECustomerKey
}

// CopyOptions apply to the destination of a copy.
type CopyOptions struct {
	WriteOptions
	ReplaceMetadata bool
}

// Upload identifies a multipart upload.
type Upload struct {
	Bucket, Key, ID string
	Initiated       time.Time
	SSEC            SSECustomerKey
	// ContentMD5 sends Content-MD5 with every part.
	ContentMD5 bool
}

// Part is an uploaded part.
type Part struct {
	Number int32
	ETag   string
	Size   int64
}

// Tag is one S3 tag.
type Tag struct{ Key, Value string }

// Grantee is who a grant is for.
type Grantee struct {
	Type        string // "CanonicalUser", "Group" or "AmazonCustomerByEmail"
	ID          string // canonical user id
	DisplayName string
	URI         string // group URI
	Email       string
}

// Grant gives a permission: FULL_CONTROL, READ, WRITE, READ_ACP, WRITE_ACP.
type Grant struct {
	Grantee    Grantee
	Permission string
}

// The URIs of S3's predefined groups.
const (
	AllUsersURI           = "http://acs.amazonaws.com/groups/global/AllUsers"
	AuthenticatedUsersURI = "http://acs.amazonaws.com/groups/global/AuthenticatedUsers"
	LogDeliveryURI        = "http://acs.amazonaws.com/groups/s3/LogDelivery"
)

// ACL is an object's or a bucket's access control list. Owner's Type is
// empty. Some gateways (MinIO) leave IDs and names empty.
type ACL struct {
	Owner  Grantee
	Grants []Grant
}
