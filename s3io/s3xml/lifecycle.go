package s3xml

import (
	"fmt"
	"time"

	"github.com/s3mount/s3mount/s3io"
)

// LifecycleConfiguration is a bucket's lifecycle configuration. Optional
// elements are pointers (or empty slices), so that an element given empty,
// such as <Prefix></Prefix>, differs from one left out.
type LifecycleConfiguration struct {
	Rules []LifecycleRule `xml:"Rule"`
}

// LifecycleRule is one Rule element. It has a Filter or, in the legacy
// form, a Prefix; and at least one action.
type LifecycleRule struct {
	ID     string           `xml:"ID,omitempty"`
	Prefix *string          `xml:"Prefix"`
	Filter *LifecycleFilter `xml:"Filter"`
	Status string           `xml:"Status"` // "Enabled" or "Disabled"

	Expiration                     *LifecycleExpiration            `xml:"Expiration"`
	Transitions                    []LifecycleTransition           `xml:"Transition"`
	NoncurrentVersionTransitions   []NoncurrentVersionTransition   `xml:"NoncurrentVersionTransition"`
	NoncurrentVersionExpiration    *NoncurrentVersionExpiration    `xml:"NoncurrentVersionExpiration"`
	AbortIncompleteMultipartUpload *AbortIncompleteMultipartUpload `xml:"AbortIncompleteMultipartUpload"`
}

// LifecycleFilter selects the objects a rule applies to: by one of
// prefix, tag or size, or by several joined with And. An empty filter
// selects every object.
type LifecycleFilter struct {
	Prefix                *string       `xml:"Prefix"`
	Tag                   *s3io.Tag     `xml:"Tag"`
	ObjectSizeGreaterThan *int64        `xml:"ObjectSizeGreaterThan"`
	ObjectSizeLessThan    *int64        `xml:"ObjectSizeLessThan"`
	And                   *LifecycleAnd `xml:"And"`
}

// LifecycleAnd joins several predicates of a filter.
type LifecycleAnd struct {
	Prefix                *string    `xml:"Prefix"`
	Tags                  []s3io.Tag `xml:"Tag"`
	ObjectSizeGreaterThan *int64     `xml:"ObjectSizeGreaterThan"`
	ObjectSizeLessThan    *int64     `xml:"ObjectSizeLessThan"`
}

// LifecycleExpiration expires current versions: after Days, on Date
// (midnight UTC), or, with ExpiredObjectDeleteMarker, removes delete
// markers left without versions.
type LifecycleExpiration struct {
	Days                      *int32     `xml:"Days"`
	Date                      *time.Time `xml:"Date"`
	ExpiredObjectDeleteMarker *bool      `xml:"ExpiredObjectDeleteMarker"`
}

// LifecycleTransition moves current versions to StorageClass after Days
// or on Date.
type LifecycleTransition struct {
	Days         *int32     `xml:"Days"`
	Date         *time.Time `xml:"Date"`
	StorageClass string     `xml:"StorageClass"`
}

// NoncurrentVersionExpiration expires versions NoncurrentDays after they
// became noncurrent, keeping the NewerNoncurrentVersions newest.
type NoncurrentVersionExpiration struct {
	NoncurrentDays          *int32 `xml:"NoncurrentDays"`
	NewerNoncurrentVersions *int32 `xml:"NewerNoncurrentVersions"`
}

// NoncurrentVersionTransition moves noncurrent versions to StorageClass.
type NoncurrentVersionTransition struct {
	NoncurrentDays          *int32 `xml:"NoncurrentDays"`
	NewerNoncurrentVersions *int32 `xml:"NewerNoncurrentVersions"`
	StorageClass            string `xml:"StorageClass"`
}

// AbortIncompleteMultipartUpload aborts uploads DaysAfterInitiation days
// after they started.
type AbortIncompleteMultipartUpload struct {
	DaysAfterInitiation *int32 `xml:"DaysAfterInitiation"`
}

const lifecycleRoot = "LifecycleConfiguration"

var (
	tagSchema  = map[string]bool{"Key": false, "Value": false}
	sizeSchema = []string{"ObjectSizeGreaterThan", "ObjectSizeLessThan"}
)

var lifecycleSchema = schema{
	lifecycleRoot: {"Rule": true},
	"Rule": {"ID": false, "Prefix": false, "Filter": false, "Status": false, "Expiration": false,
		"Transition": true, "NoncurrentVersionTransition": true, "NoncurrentVersionExpiration": false,
		"AbortIncompleteMultipartUpload": false},
	"Filter":                      {"Prefix": false, "Tag": false, "And": false, sizeSchema[0]: false, sizeSchema[1]: false},
	"And":                         {"Prefix": false, "Tag": true, sizeSchema[0]: false, sizeSchema[1]: false},
	"Tag":                         tagSchema,
	"Expiration":                  {"Days": false, "Date": false, "ExpiredObjectDeleteMarker": false},
	"Transition":                  {"Days": false, "Date": false, "StorageClass": false},
	"NoncurrentVersionExpiration": {"NoncurrentDays": false, "NewerNoncurrentVersions": false},
	"NoncurrentVersionTransition": {"NoncurrentDays": false, "NewerNoncurrentVersions": false,
		"StorageClass": false},
	"AbortIncompleteMultipartUpload": {"DaysAfterInitiation": false},
}

// maxLifecycleRules is S3's limit.
const maxLifecycleRules = 1000

// ParseLifecycle reads a LifecycleConfiguration document and checks it as
// S3 does. Dates are RFC 3339 ("2030-01-01T00:00:00Z", or with
// ".000Z" as S3 writes them).
func ParseLifecycle(doc string) (LifecycleConfiguration, error) {
	var c LifecycleConfiguration
	if err := decode(doc, lifecycleRoot, lifecycleSchema, &c); err != nil {
		return LifecycleConfiguration{}, err
	}
	if err := c.Check(); err != nil {
		return LifecycleConfiguration{}, err
	}
	return c, nil
}

// XML returns the document, in S3's namespace.
func (c LifecycleConfiguration) XML() string { return encode(lifecycleRoot, c) }

// Check applies S3's rules: 1 to 1,000 rules with distinct IDs, each
// Enabled or Disabled, with a Filter or a legacy Prefix (not both), a
// filter of one predicate (or And), and at least one action, each action
// well formed.
func (c LifecycleConfiguration) Check() error {
	if len(c.Rules) == 0 || len(c.Rules) > maxLifecycleRules {
		return invalid(lifecycleRoot, "%d Rule elements, want 1 to %d", len(c.Rules), maxLifecycleRules)
	}
	ids := map[string]bool{}
	for i, r := range c.Rules {
		if r.ID != "" && ids[r.ID] {
			return invalid(lifecycleRoot, "Rule %d: ID %q used twice", i+1, r.ID)
		}
		ids[r.ID] = true
		if p := r.problem(); p != "" {
			return invalid(lifecycleRoot, "Rule %d: %s", i+1, p)
		}
	}
	return nil
}

// problem says what S3 would refuse in the rule, or "".
func (r LifecycleRule) problem() string {
	fail := fmt.Sprintf
	switch {
	case len(r.ID) > maxRuleID:
		return fail("ID longer than %d characters", maxRuleID)
	case r.Status != "Enabled" && r.Status != "Disabled":
		return fail("Status %q, want Enabled or Disabled", r.Status)
	case r.Prefix != nil && r.Filter != nil:
		return fail("both Prefix and Filter; the legacy Prefix goes into the Filter")
	case r.Prefix == nil && r.Filter == nil:
		return fail("no Filter (an empty <Filter/> selects every object)")
	case r.Expiration == nil && len(r.Transitions) == 0 && len(r.NoncurrentVersionTransitions) == 0 &&
		r.NoncurrentVersionExpiration == nil && r.AbortIncompleteMultipartUpload == nil:
		return "no action (Expiration, Transition, NoncurrentVersionExpiration, " +
			"NoncurrentVersionTransition or AbortIncompleteMultipartUpload)"
	}
	byTag := false
	if f := r.Filter; f != nil {
		n := count(f.Prefix != nil, f.Tag != nil, f.And != nil, f.ObjectSizeGreaterThan != nil, f.ObjectSizeLessThan != nil)
		if n > 1 {
			return fail("Filter with %d predicates; join them with <And>", n)
		}
		if f.Tag != nil && f.Tag.Key == "" {
			return fail("Filter Tag without a Key")
		}
		if a := f.And; a != nil {
			for _, t := range a.Tags {
				if t.Key == "" {
					return fail("And Tag without a Key")
				}
			}
		}
		byTag = f.Tag != nil || (f.And != nil && len(f.And.Tags) > 0)
	}
	if e := r.Expiration; e != nil {
		switch {
		case count(e.Days != nil, e.Date != nil, e.ExpiredObjectDeleteMarker != nil) != 1:
			return fail("Expiration needs exactly one of Days, Date and ExpiredObjectDeleteMarker")
		case e.Days != nil && *e.Days <= 0:
			return fail("Expiration Days %d, want a positive number", *e.Days)
		case e.Date != nil && !midnightUTC(*e.Date):
			return fail("Expiration Date %s is not midnight UTC", e.Date.Format(time.RFC3339))
		case e.ExpiredObjectDeleteMarker != nil && byTag:
			return fail("ExpiredObjectDeleteMarker cannot go with a tag filter")
		}
	}
	for _, t := range r.Transitions {
		switch {
		case count(t.Days != nil, t.Date != nil) != 1:
			return fail("Transition needs exactly one of Days and Date")
		case t.Days != nil && *t.Days < 0:
			return fail("Transition Days %d is negative", *t.Days)
		case t.Date != nil && !midnightUTC(*t.Date):
			return fail("Transition Date %s is not midnight UTC", t.Date.Format(time.RFC3339))
		case t.StorageClass == "":
			return fail("Transition without a StorageClass")
		}
	}
	for _, t := range r.NoncurrentVersionTransitions {
		switch {
		case t.NoncurrentDays == nil || *t.NoncurrentDays < 0:
			return fail("NoncurrentVersionTransition needs NoncurrentDays of 0 or more")
		case t.StorageClass == "":
			return fail("NoncurrentVersionTransition without a StorageClass")
		}
	}
	if e := r.NoncurrentVersionExpiration; e != nil && (e.NoncurrentDays == nil || *e.NoncurrentDays <= 0) {
		return fail("NoncurrentVersionExpiration needs a positive NoncurrentDays")
	}
	if a := r.AbortIncompleteMultipartUpload; a != nil {
		switch {
		case a.DaysAfterInitiation == nil || *a.DaysAfterInitiation <= 0:
			return fail("AbortIncompleteMultipartUpload needs a positive DaysAfterInitiation")
		case byTag:
			return fail("AbortIncompleteMultipartUpload cannot go with a tag filter")
		}
	}
	return ""
}

func count(conds ...bool) int {
	n := 0
	for _, c := range conds {
		if c {
			n++
		}
	}
	return n
}

func midnightUTC(t time.Time) bool {
	t = t.UTC()
	return t.Hour() == 0 && t.Minute() == 0 && t.Second() == 0 && t.Nanosecond() == 0
}
