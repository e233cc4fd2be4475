package awsstore

import (
	"context"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	smithyauth "github.com/aws/smithy-go/auth"
	smithyendpoints "github.com/aws/smithy-go/endpoints"
)

// countingResolver is the SDK's resolver, counting the calls that reach it.
type countingResolver struct {
	calls int
	next  s3.EndpointResolverV2
}

func (r *countingResolver) ResolveEndpoint(ctx context.Context, p s3.EndpointParameters) (smithyendpoints.Endpoint, error) {
	r.calls++
	return r.next.ResolveEndpoint(ctx, p)
}

// The cache gives what the SDK gives, for path-style endpoints with a base
// path, for AWS's own regional endpoints and virtual-hosted buckets, and
// asks the SDK once per bucket, not once per key.
func TestEndpointCacheAnswersAsTheSDKDoesOncePerBucket(t *testing.T) {
	sdk := s3.NewDefaultEndpointResolverV2()
	inner := &countingResolver{next: sdk}
	c := newEndpointCache(inner)
	ctx := context.Background()
	cases := []s3.EndpointParameters{
		{Bucket: aws.String("bkt"), Region: aws.String("us-east-1"), Endpoint: aws.String("http://127.0.0.1:9000/api/v1/s3"), ForcePathStyle: aws.Bool(true)},
		{Bucket: aws.String("other.with.dots"), Region: aws.String("us-east-1"), Endpoint: aws.String("http://127.0.0.1:9000/api/v1/s3"), ForcePathStyle: aws.Bool(true)},
		{Bucket: aws.String("bkt"), Region: aws.String("eu-west-1")},
		{Bucket: aws.String("bkt"), Region: aws.String("eu-west-1"), ForcePathStyle: aws.Bool(true)},
		{Bucket: aws.String("bkt"), Region: aws.String("eu-west-1"), UseFIPS: aws.Bool(true)},
		{Region: aws.String("us-east-1"), Endpoint: aws.String("https://s3.example.org")}, // ListBuckets: no bucket
	}
	for _, p := range cases {
		want, err := sdk.ResolveEndpoint(ctx, p)
		if err != nil {
			t.Fatal(err)
		}
		for _, key := range []string{"a", "dir/b c", "x/y/z"} {
			q := p
			q.Key, q.Prefix = aws.String(key), aws.String(key)
			got, err := c.ResolveEndpoint(ctx, q)
			if err != nil {
				t.Fatal(err)
			}
			if got.URI.String() != want.URI.String() || !reflect.DeepEqual(got.Headers, want.Headers) ||
				!reflect.DeepEqual(got.Properties, want.Properties) {
				t.Errorf("%s, key %q: got %+v, want %+v", endpointID(&p), key, got, want)
			}
		}
	}
	if inner.calls != len(cases) {
		t.Errorf("the SDK's resolver was asked %d times for %d distinct sets of parameters", inner.calls, len(cases))
	}
	// An error is not kept.
	bad := s3.EndpointParameters{Bucket: aws.String("bkt"), Region: aws.String("us-east-1"), Endpoint: aws.String("not a url")}
	for range 2 {
		if _, err := c.ResolveEndpoint(ctx, bad); err == nil {
			t.Fatal("a bad endpoint resolved")
		}
	}
	if inner.calls != len(cases)+2 {
		t.Errorf("a failed resolution was kept (%d calls)", inner.calls)
	}
}

// endpointID must spell out every parameter the SDK's rules may test: an
// SDK that adds a parameter fails here until endpointID has it (or, as
// for the key, says why it is left out).
func TestEndpointIDCoversEveryParameter(t *testing.T) {
	var fields []string
	for f := range reflect.TypeFor[s3.EndpointParameters]().Fields() {
		fields = append(fields, f.Name)
	}
	sort.Strings(fields)
	want := []string{"Accelerate", "Bucket", "CopySource", "DisableAccessPoints", "DisableMultiRegionAccessPoints",
		"DisableS3ExpressSessionAuth", "Endpoint", "ForcePathStyle", "Key", "Prefix", "Region", "UseArnRegion",
		"UseDualStack", "UseFIPS", "UseGlobalEndpoint", "UseObjectLambdaEndpoint", "UseS3ExpressControlEndpoint"}
	sort.Strings(want)
	if strings.Join(fields, " ") != strings.Join(want, " ") {
		t.Errorf("s3.EndpointParameters has %v; endpointID knows %v", fields, want)
	}
}

// Each request gets maps of its own: the SDK signs with the endpoint's
// auth options and writes the signing name and region into them, so a
// shared map was a concurrent write (a crash under load, before).
func TestEndpointCacheGivesEachRequestItsOwnMaps(t *testing.T) {
	c := newEndpointCache(s3.NewDefaultEndpointResolverV2())
	p := s3.EndpointParameters{Bucket: aws.String("bkt"), Region: aws.String("us-east-1"),
		Endpoint: aws.String("http://127.0.0.1:9000"), ForcePathStyle: aws.Bool(true)}
	ctx := context.Background()
	first, err := c.ResolveEndpoint(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	opts, ok := smithyauth.GetAuthOptions(&first.Properties)
	if !ok || len(opts) == 0 {
		t.Fatalf("the SDK's endpoint carries no auth options: %+v", first.Properties.Values())
	}
	for _, o := range opts {
		o.SignerProperties.Set("written-by-a-request", true)
	}
	first.Properties.Set("written-by-a-request", true)
	first.Headers.Set("X-Written", "yes")
	for range 2 { // the copy that was cached, and a later one
		next, err := c.ResolveEndpoint(ctx, p)
		if err != nil {
			t.Fatal(err)
		}
		nopts, _ := smithyauth.GetAuthOptions(&next.Properties)
		for _, o := range nopts {
			if o.SignerProperties.Has("written-by-a-request") {
				t.Fatal("a request's write to its signing properties reached the next request")
			}
		}
		if next.Properties.Has("written-by-a-request") || next.Headers.Get("X-Written") != "" {
			t.Fatal("a request's write to its endpoint reached the next request")
		}
	}
}
