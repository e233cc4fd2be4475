package awsstore

import (
	"context"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"
	smithyauth "github.com/aws/smithy-go/auth"
	smithyendpoints "github.com/aws/smithy-go/endpoints"
)

// endpointCache remembers the SDK's endpoint for each set of endpoint
// parameters. The SDK evaluates its S3 rule set for every request: on a
// read of small files that was a seventh of the daemon's CPU (deep
// recursion that also grows each fetching goroutine's fresh stack), for an
// answer that depends only on the bucket and the client's settings, which
// a mount repeats for every request. The object key, prefix and copy
// source are parameters too, but no rule looks at them (they go in the
// request path, not the endpoint), so they are left out of the cache key.
type endpointCache struct {
	next s3.EndpointResolverV2

	mu   sync.RWMutex
	byID map[string]smithyendpoints.Endpoint
}

// maxCachedEndpoints bounds the cache: a mount of every bucket can meet
// many; past the bound it starts again.
const maxCachedEndpoints = 1024

func newEndpointCache(next s3.EndpointResolverV2) *endpointCache {
	return &endpointCache{next: next, byID: make(map[string]smithyendpoints.Endpoint)}
}

func (c *endpointCache) ResolveEndpoint(ctx context.Context, p s3.EndpointParameters) (smithyendpoints.Endpoint, error) {
	id := endpointID(&p)
	c.mu.RLock()
	e, ok := c.byID[id]
	c.mu.RUnlock()
	if ok {
		return ownCopy(e), nil
	}
	e, err := c.next.ResolveEndpoint(ctx, p)
	if err != nil {
		return e, err // not kept: the next request asks again
	}
	c.mu.Lock()
	if len(c.byID) >= maxCachedEndpoints {
		clear(c.byID)
	}
	c.byID[id] = e
	c.mu.Unlock()
	return ownCopy(e), nil
}

// ownCopy is e with maps of its own: the SDK takes the endpoint's auth
// options as the request's signing properties and writes into them (the
// signing name and region), so requests must not share them.
func ownCopy(e smithyendpoints.Endpoint) smithyendpoints.Endpoint {
	var props smithy.Properties
	props.SetAll(&e.Properties)
	if opts, ok := smithyauth.GetAuthOptions(&e.Properties); ok {
		own := make([]*smithyauth.Option, len(opts))
		for i, o := range opts {
			own[i] = &smithyauth.Option{SchemeID: o.SchemeID}
			own[i].IdentityProperties.SetAll(&o.IdentityProperties)
			own[i].SignerProperties.SetAll(&o.SignerProperties)
		}
		smithyauth.SetAuthOptions(&props, own)
	}
	e.Properties = props
	e.Headers = e.Headers.Clone()
	return e
}

// endpointID spells out every parameter a rule may test.
func endpointID(p *s3.EndpointParameters) string {
	var b strings.Builder
	for _, s := range []*string{p.Bucket, p.Region, p.Endpoint} {
		if s == nil {
			b.WriteString("-\x00")
		} else {
			b.WriteString("+")
			b.WriteString(*s)
			b.WriteString("\x00")
		}
	}
	for _, v := range []*bool{p.UseFIPS, p.UseDualStack, p.ForcePathStyle, p.Accelerate,
		p.UseGlobalEndpoint, p.UseObjectLambdaEndpoint, p.DisableAccessPoints,
		p.DisableMultiRegionAccessPoints, p.UseArnRegion, p.UseS3ExpressControlEndpoint,
		p.DisableS3ExpressSessionAuth} {
		switch {
		case v == nil:
			b.WriteByte('-')
		case *v:
			b.WriteByte('1')
		default:
			b.WriteByte('0')
		}
	}
	return b.String()
}
