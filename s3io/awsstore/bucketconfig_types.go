package awsstore

import (
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/s3mount/s3mount/s3io"
	"github.com/s3mount/s3mount/s3io/s3xml"
)

// The SDK sends and reads CORS and lifecycle documents as its own types;
// these functions carry every field across, both ways, so that a document
// put and got back says the same.

func toSDKCORS(c s3xml.CORSConfiguration) []types.CORSRule {
	out := make([]types.CORSRule, len(c.Rules))
	for i, r := range c.Rules {
		out[i] = types.CORSRule{
			AllowedHeaders: r.AllowedHeaders,
			AllowedMethods: r.AllowedMethods,
			AllowedOrigins: r.AllowedOrigins,
			ExposeHeaders:  r.ExposeHeaders,
			MaxAgeSeconds:  r.MaxAgeSeconds,
		}
		if r.ID != "" {
			out[i].ID = aws.String(r.ID)
		}
	}
	return out
}

func fromSDKCORS(rules []types.CORSRule) s3xml.CORSConfiguration {
	var c s3xml.CORSConfiguration
	for _, r := range rules {
		c.Rules = append(c.Rules, s3xml.CORSRule{
			ID:             aws.ToString(r.ID),
			AllowedHeaders: r.AllowedHeaders,
			AllowedMethods: r.AllowedMethods,
			AllowedOrigins: r.AllowedOrigins,
			ExposeHeaders:  r.ExposeHeaders,
			MaxAgeSeconds:  r.MaxAgeSeconds,
		})
	}
	return c
}

func toSDKLifecycle(c s3xml.LifecycleConfiguration) []types.LifecycleRule {
	out := make([]types.LifecycleRule, len(c.Rules))
	for i, r := range c.Rules {
		rule := types.LifecycleRule{
			Status: types.ExpirationStatus(r.Status),
			Prefix: r.Prefix,
		}
		if r.ID != "" {
			rule.ID = aws.String(r.ID)
		}
		if f := r.Filter; f != nil {
			rule.Filter = &types.LifecycleRuleFilter{
				Prefix:                f.Prefix,
				ObjectSizeGreaterThan: f.ObjectSizeGreaterThan,
				ObjectSizeLessThan:    f.ObjectSizeLessThan,
			}
			if f.Tag != nil {
				rule.Filter.Tag = toSDKTag(*f.Tag)
			}
			if a := f.And; a != nil {
				rule.Filter.And = &types.LifecycleRuleAndOperator{
					Prefix:                a.Prefix,
					Tags:                  toSDKTags(a.Tags),
					ObjectSizeGreaterThan: a.ObjectSizeGreaterThan,
					ObjectSizeLessThan:    a.ObjectSizeLessThan,
				}
			}
		}
		if e := r.Expiration; e != nil {
			rule.Expiration = &types.LifecycleExpiration{Days: e.Days, Date: e.Date,
				ExpiredObjectDeleteMarker: e.ExpiredObjectDeleteMarker}
		}
		for _, t := range r.Transitions {
			rule.Transitions = append(rule.Transitions, types.Transition{Days: t.Days, Date: t.Date,
				StorageClass: types.TransitionStorageClass(t.StorageClass)})
		}
		for _, t := range r.NoncurrentVersionTransitions {
			rule.NoncurrentVersionTransitions = append(rule.NoncurrentVersionTransitions, types.NoncurrentVersionTransition{
				NoncurrentDays: t.NoncurrentDays, NewerNoncurrentVersions: t.NewerNoncurrentVersions,
				StorageClass: types.TransitionStorageClass(t.StorageClass)})
		}
		if e := r.NoncurrentVersionExpiration; e != nil {
			rule.NoncurrentVersionExpiration = &types.NoncurrentVersionExpiration{
				NoncurrentDays: e.NoncurrentDays, NewerNoncurrentVersions: e.NewerNoncurrentVersions}
		}
		if a := r.AbortIncompleteMultipartUpload; a != nil {
			rule.AbortIncompleteMultipartUpload = &types.AbortIncompleteMultipartUpload{
				DaysAfterInitiation: a.DaysAfterInitiation}
		}
		out[i] = rule
	}
	return out
}

func fromSDKLifecycle(rules []types.LifecycleRule) s3xml.LifecycleConfiguration {
	var c s3xml.LifecycleConfiguration
	for _, r := range rules {
		rule := s3xml.LifecycleRule{
			ID:     aws.ToString(r.ID),
			Status: string(r.Status),
			Prefix: r.Prefix,
		}
		if f := r.Filter; f != nil {
			rule.Filter = &s3xml.LifecycleFilter{
				Prefix:                f.Prefix,
				ObjectSizeGreaterThan: f.ObjectSizeGreaterThan,
				ObjectSizeLessThan:    f.ObjectSizeLessThan,
			}
			if f.Tag != nil {
				t := fromSDKTag(*f.Tag)
				rule.Filter.Tag = &t
			}
			if a := f.And; a != nil {
				and := &s3xml.LifecycleAnd{
					Prefix:                a.Prefix,
					ObjectSizeGreaterThan: a.ObjectSizeGreaterThan,
					ObjectSizeLessThan:    a.ObjectSizeLessThan,
				}
				for _, t := range a.Tags {
					and.Tags = append(and.Tags, fromSDKTag(t))
				}
				rule.Filter.And = and
			}
		}
		if e := r.Expiration; e != nil {
			rule.Expiration = &s3xml.LifecycleExpiration{Days: e.Days, Date: e.Date,
				ExpiredObjectDeleteMarker: e.ExpiredObjectDeleteMarker}
		}
		for _, t := range r.Transitions {
			rule.Transitions = append(rule.Transitions, s3xml.LifecycleTransition{Days: t.Days, Date: t.Date,
				StorageClass: string(t.StorageClass)})
		}
		for _, t := range r.NoncurrentVersionTransitions {
			rule.NoncurrentVersionTransitions = append(rule.NoncurrentVersionTransitions, s3xml.NoncurrentVersionTransition{
				NoncurrentDays: t.NoncurrentDays, NewerNoncurrentVersions: t.NewerNoncurrentVersions,
				StorageClass: string(t.StorageClass)})
		}
		if e := r.NoncurrentVersionExpiration; e != nil {
			rule.NoncurrentVersionExpiration = &s3xml.NoncurrentVersionExpiration{
				NoncurrentDays: e.NoncurrentDays, NewerNoncurrentVersions: e.NewerNoncurrentVersions}
		}
		if a := r.AbortIncompleteMultipartUpload; a != nil {
			rule.AbortIncompleteMultipartUpload = &s3xml.AbortIncompleteMultipartUpload{
				DaysAfterInitiation: a.DaysAfterInitiation}
		}
		c.Rules = append(c.Rules, rule)
	}
	return c
}

func toSDKTag(t s3io.Tag) *types.Tag {
	return &types.Tag{Key: aws.String(t.Key), Value: aws.String(t.Value)}
}

func fromSDKTag(t types.Tag) s3io.Tag {
	return s3io.Tag{Key: aws.ToString(t.Key), Value: aws.ToString(t.Value)}
}
