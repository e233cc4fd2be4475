package memstore

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/s3mount/s3mount/s3io"
	"github.com/s3mount/s3mount/s3io/s3xml"
)

// GetBucketPolicy returns the policy as it was put.
func (s *Store) GetBucketPolicy(ctx context.Context, bucketName string) (string, error) {
	const op = "GetBucketPolicy"
	s.mu.Lock()
	defer s.mu.Unlock()
	b, err := s.featureBucketLocked(ctx, "policy", op, bucketName, "")
	if err != nil {
		return "", err
	}
	if b.policy == "" {
		return "", opErr(op, bucketName, "", "NoSuchBucketPolicy", s3io.ErrNoConfiguration)
	}
	return b.policy, nil
}

// PutBucketPolicy sets a policy after the checks S3 makes first: JSON,
// statements with an Effect, resources in this bucket.
func (s *Store) PutBucketPolicy(ctx context.Context, bucketName, policy string) error {
	const op = "PutBucketPolicy"
	if problem := policyProblem(bucketName, policy); problem != "" {
		return &s3io.OpError{Op: op, Bucket: bucketName, Code: "MalformedPolicy", Message: problem,
			Err: s3io.ErrInvalidArgument}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	b, err := s.featureBucketLocked(ctx, "policy", op, bucketName, "")
	if err != nil {
		return err
	}
	b.policy = policy
	return nil
}

// DeleteBucketPolicy removes the policy; a bucket without one is no error.
func (s *Store) DeleteBucketPolicy(ctx context.Context, bucketName string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	b, err := s.featureBucketLocked(ctx, "policy", "DeleteBucketPolicy", bucketName, "")
	if err != nil {
		return err
	}
	b.policy = ""
	return nil
}

// policyProblem says what S3 would refuse in a policy, or "".
func policyProblem(bucketName, policy string) string {
	var doc struct {
		Statement json.RawMessage
	}
	if err := json.Unmarshal([]byte(policy), &doc); err != nil {
		return fmt.Sprintf("not a JSON object: %v", err)
	}
	type statement struct {
		Effect   string
		Resource json.RawMessage
	}
	var statements []statement
	if err := json.Unmarshal(doc.Statement, &statements); err != nil {
		var one statement
		if err := json.Unmarshal(doc.Statement, &one); err != nil {
			return "Statement missing, or not an object or a list of objects"
		}
		statements = []statement{one}
	}
	if len(statements) == 0 {
		return "no Statement"
	}
	arn := "arn:aws:s3:::" + bucketName
	for i, st := range statements {
		if st.Effect != "Allow" && st.Effect != "Deny" {
			return fmt.Sprintf("statement %d: Effect %q, want Allow or Deny", i+1, st.Effect)
		}
		var resources []string
		if err := json.Unmarshal(st.Resource, &resources); err != nil {
			var one string
			if err := json.Unmarshal(st.Resource, &one); err != nil {
				return fmt.Sprintf("statement %d: Resource missing or not a string or list of strings", i+1)
			}
			resources = []string{one}
		}
		for _, r := range resources {
			if r != arn && !strings.HasPrefix(r, arn+"/") {
				return fmt.Sprintf("statement %d: resource %q is not in bucket %s", i+1, r, bucketName)
			}
		}
	}
	return ""
}

// GetBucketCORS returns the CORS configuration as S3 would print it.
func (s *Store) GetBucketCORS(ctx context.Context, bucketName string) (string, error) {
	const op = "GetBucketCors"
	s.mu.Lock()
	defer s.mu.Unlock()
	b, err := s.featureBucketLocked(ctx, "cors", op, bucketName, "")
	if err != nil {
		return "", err
	}
	if b.cors == nil {
		return "", opErr(op, bucketName, "", "NoSuchCORSConfiguration", s3io.ErrNoConfiguration)
	}
	return b.cors.XML(), nil
}

// PutBucketCORS sets the CORS configuration.
func (s *Store) PutBucketCORS(ctx context.Context, bucketName, xmlDoc string) error {
	const op = "PutBucketCors"
	c, err := s3xml.ParseCORS(xmlDoc)
	if err != nil {
		return malformedXML(op, bucketName, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	b, err := s.featureBucketLocked(ctx, "cors", op, bucketName, "")
	if err != nil {
		return err
	}
	b.cors = &c
	return nil
}

// DeleteBucketCORS removes the CORS configuration.
func (s *Store) DeleteBucketCORS(ctx context.Context, bucketName string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	b, err := s.featureBucketLocked(ctx, "cors", "DeleteBucketCors", bucketName, "")
	if err != nil {
		return err
	}
	b.cors = nil
	return nil
}

// GetBucketLifecycle returns the lifecycle configuration as S3 would
// print it.
func (s *Store) GetBucketLifecycle(ctx context.Context, bucketName string) (string, error) {
	const op = "GetBucketLifecycleConfiguration"
	s.mu.Lock()
	defer s.mu.Unlock()
	b, err := s.featureBucketLocked(ctx, "lifecycle", op, bucketName, "")
	if err != nil {
		return "", err
	}
	if b.lifecycle == nil {
		return "", opErr(op, bucketName, "", "NoSuchLifecycleConfiguration", s3io.ErrNoConfiguration)
	}
	return b.lifecycle.XML(), nil
}

// PutBucketLifecycle sets the lifecycle configuration. Its rules are
// kept, not applied.
func (s *Store) PutBucketLifecycle(ctx context.Context, bucketName, xmlDoc string) error {
	const op = "PutBucketLifecycleConfiguration"
	c, err := s3xml.ParseLifecycle(xmlDoc)
	if err != nil {
		return malformedXML(op, bucketName, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	b, err := s.featureBucketLocked(ctx, "lifecycle", op, bucketName, "")
	if err != nil {
		return err
	}
	b.lifecycle = &c
	return nil
}

// DeleteBucketLifecycle removes the lifecycle configuration.
func (s *Store) DeleteBucketLifecycle(ctx context.Context, bucketName string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	b, err := s.featureBucketLocked(ctx, "lifecycle", "DeleteBucketLifecycle", bucketName, "")
	if err != nil {
		return err
	}
	b.lifecycle = nil
	return nil
}

// GetBucketVersioning returns "Enabled", "Suspended", or "" when
// versioning was never enabled.
func (s *Store) GetBucketVersioning(ctx context.Context, bucketName string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	b, err := s.featureBucketLocked(ctx, "versioning", "GetBucketVersioning", bucketName, "")
	if err != nil {
		return "", err
	}
	return b.versioning, nil
}

// PutBucketVersioning records the status. Objects keep one version each:
// memstore does not model versions.
func (s *Store) PutBucketVersioning(ctx context.Context, bucketName, status string) error {
	const op = "PutBucketVersioning"
	if status != "Enabled" && status != "Suspended" {
		return &s3io.OpError{Op: op, Bucket: bucketName, Code: "IllegalVersioningConfigurationException",
			Message: fmt.Sprintf("status %q, want Enabled or Suspended", status), Err: s3io.ErrInvalidArgument}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	b, err := s.featureBucketLocked(ctx, "versioning", op, bucketName, "")
	if err != nil {
		return err
	}
	b.versioning = status
	return nil
}

func malformedXML(op, bucketName string, err error) error {
	return &s3io.OpError{Op: op, Bucket: bucketName, Code: "MalformedXML", Message: err.Error(),
		Err: s3io.ErrInvalidArgument}
}
