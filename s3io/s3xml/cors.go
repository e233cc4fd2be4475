package s3xml

import "strings"

// CORSConfiguration is a bucket's CORS configuration.
type CORSConfiguration struct {
	Rules []CORSRule `xml:"CORSRule"`
}

// CORSRule is one CORSRule element.
type CORSRule struct {
	ID             string   `xml:"ID,omitempty"`
	AllowedHeaders []string `xml:"AllowedHeader"`
	AllowedMethods []string `xml:"AllowedMethod"`
	AllowedOrigins []string `xml:"AllowedOrigin"`
	ExposeHeaders  []string `xml:"ExposeHeader"`
	MaxAgeSeconds  *int32   `xml:"MaxAgeSeconds"`
}

const corsRoot = "CORSConfiguration"

var corsSchema = schema{
	corsRoot: {"CORSRule": true},
	"CORSRule": {"ID": false, "AllowedHeader": true, "AllowedMethod": true, "AllowedOrigin": true,
		"ExposeHeader": true, "MaxAgeSeconds": false},
}

// S3's limits on CORS rules.
const (
	maxCORSRules = 100
	maxRuleID    = 255
)

var corsMethods = map[string]bool{"GET": true, "PUT": true, "POST": true, "DELETE": true, "HEAD": true}

// ParseCORS reads a CORSConfiguration document and checks it as S3 does.
func ParseCORS(doc string) (CORSConfiguration, error) {
	var c CORSConfiguration
	if err := decode(doc, corsRoot, corsSchema, &c); err != nil {
		return CORSConfiguration{}, err
	}
	if err := c.Check(); err != nil {
		return CORSConfiguration{}, err
	}
	return c, nil
}

// XML returns the document, in S3's namespace.
func (c CORSConfiguration) XML() string { return encode(corsRoot, c) }

// Check applies S3's rules: 1 to 100 rules, each with at least one
// allowed method (GET, PUT, POST, DELETE, HEAD) and origin, at most one
// "*" in each origin and allowed header.
func (c CORSConfiguration) Check() error {
	if len(c.Rules) == 0 || len(c.Rules) > maxCORSRules {
		return invalid(corsRoot, "%d CORSRule elements, want 1 to %d", len(c.Rules), maxCORSRules)
	}
	for i, r := range c.Rules {
		fail := func(format string, args ...any) error {
			return invalid(corsRoot, "CORSRule %d: "+format, append([]any{i + 1}, args...)...)
		}
		switch {
		case len(r.ID) > maxRuleID:
			return fail("ID longer than %d characters", maxRuleID)
		case len(r.AllowedMethods) == 0:
			return fail("no AllowedMethod")
		case len(r.AllowedOrigins) == 0:
			return fail("no AllowedOrigin")
		case r.MaxAgeSeconds != nil && *r.MaxAgeSeconds < 0:
			return fail("negative MaxAgeSeconds")
		}
		for _, m := range r.AllowedMethods {
			if !corsMethods[m] {
				return fail("AllowedMethod %q, want GET, PUT, POST, DELETE or HEAD", m)
			}
		}
		for _, o := range r.AllowedOrigins {
			if o == "" || strings.Count(o, "*") > 1 {
				return fail("AllowedOrigin %q: want an origin with at most one *", o)
			}
		}
		for _, h := range r.AllowedHeaders {
			if strings.Count(h, "*") > 1 {
				return fail("AllowedHeader %q has more than one *", h)
			}
		}
	}
	return nil
}
